"""Operations users know (register, trigger, deliver, test, logs).

Pages, the JSON API, the CLI and Celery tasks all call these; none of them repeats a rule.
"""
