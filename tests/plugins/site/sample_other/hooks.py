from civicgrid.plugins import hookimpl

CALLS: list[str] = []


@hookimpl
def civicgrid_case_transitioned(event):
    CALLS.append(event.action)


@hookimpl
def civicgrid_case_closed(event):
    raise RuntimeError("a broken hook must not stop the others")
