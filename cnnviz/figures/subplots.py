"""One row of subplots as a plain layout dict: the axes, domains and title annotations ``make_subplots(1, n,
column_widths=..., horizontal_spacing=..., subplot_titles=...)`` makes, with its own arithmetic, so a figure is
built in one ``go.Figure(dict(data=..., layout=...))`` call. make_subplots and the per-axis ``update_*`` calls
after it walk plotly's slow property-path machinery, holding the server's one GIL on every rerun of the pages
that draw them (timings: docs/measurements.md). The JSON is the same (checked against make_subplots in the
tests)."""
from __future__ import annotations


def row_layout(titles, widths=None, spacing: float = 0.08, title_size: int = 16, xaxis: dict | None = None,
               yaxis: dict | None = None) -> dict:
    """Layout entries for ``len(titles)`` subplots side by side: ``xaxis``, ``yaxis``, ``xaxis2``, … (each with
    the extra properties ``xaxis`` / ``yaxis`` give every axis) and the titles' annotations. Trace ``i`` (0-based)
    goes on ``axes(i)``."""
    n = len(titles)
    widths = widths or [1] * n
    total = float(sum(widths))
    sizes = [(1 - spacing * (n - 1)) * (w / total) for w in widths]
    layout, annotations = {}, []
    for i, (title, size) in enumerate(zip(titles, sizes)):
        start = sum(sizes[:i]) + i * spacing
        domain = [start, start + size]
        x, y = axes(i)
        layout["xaxis" + x[1:]] = dict(anchor=y, domain=domain, **(xaxis or {}))
        layout["yaxis" + y[1:]] = dict(anchor=x, domain=[0.0, 1.0], **(yaxis or {}))
        if title:
            annotations.append(dict(font=dict(size=title_size), showarrow=False, text=title, x=sum(domain) / 2.0,
                                    xanchor="center", xref="paper", y=1.0, yanchor="bottom", yref="paper"))
    layout["annotations"] = annotations
    return layout


def axes(i: int) -> tuple[str, str]:
    """The (xaxis, yaxis) references of subplot ``i`` (0-based): ("x", "y"), ("x2", "y2"), …"""
    return ("x", "y") if i == 0 else (f"x{i + 1}", f"y{i + 1}")


def image_row(images, titles, height: int, title_size: int = 13, spacing: float = 0.03, top: int = 40,
              hovertemplate: str | None = None, font: dict | None = None):
    """Pictures side by side, each titled, axes hidden (the Explorer's top patches, the attack's before / after,
    feature visualisations): ``images`` are (H, W, 3) arrays as ``features._rgb`` makes them; no hover unless
    ``hovertemplate``. One ``go.Figure`` call over :func:`row_layout`, not make_subplots."""
    import plotly.graph_objects as go

    hover = dict(hovertemplate=hovertemplate) if hovertemplate else dict(hoverinfo="skip")
    data = [dict(type="image", z=z, xaxis=axes(i)[0], yaxis=axes(i)[1], **hover) for i, z in enumerate(images)]
    layout = row_layout(list(titles) or [""], spacing=spacing, title_size=title_size, xaxis=dict(visible=False),
                        yaxis=dict(visible=False))
    layout.update(height=height, margin=dict(l=10, r=10, t=top, b=10), font=font or {})
    return go.Figure(dict(data=data, layout=layout))
