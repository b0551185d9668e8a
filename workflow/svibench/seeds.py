"""Seeds derived from a configured one, each named once."""


def repeats(base_seed: int, count: int) -> list[int]:
    """Seeds of a method's ``count`` fits: ``base_seed``, ``base_seed + 1``, ..."""
    return [base_seed + r for r in range(count)]
