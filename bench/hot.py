"""Where the time went: `python -m bench.hot bench/profiles/worker-1.txt [N]`.

Reads py-spy's collapsed stacks and prints the functions of this project (and the libraries
they call into) with the share of samples in which each appears.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def main(path: str, top: int = 40) -> None:
    inclusive: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    for frame, samples in inclusive.most_common(top):
        print(f"{samples / total:6.1%}  {frame[:150]}")


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:]))
