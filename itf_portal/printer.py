"""The printing child's side (see `itf_portal.printing`). The forkserver imports this module once,
before any print: WeasyPrint and its fonts are loaded here, so each forked print starts warm."""

import resource

from weasyprint import CSS, HTML

HTML(string="<p>ITF Portal</p>").write_pdf()  # loads the fonts once, in the server


def print_pdf(html: str, stylesheet: str, memory: int, sender) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
    except MemoryError:
        sender.send((False, "it ran out of memory"))
    except Exception as error:  # noqa: BLE001 (any failure is reported to the web worker)
        sender.send((False, f"{type(error).__name__}: {error}"))
    else:
        sender.send((True, pdf))
    finally:
        sender.close()
