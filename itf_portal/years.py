"""Financial years run April to March and are written "2014/15"."""


def year_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"
