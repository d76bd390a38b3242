"""NO_COLOR: Textual renders monochrome, and every status still reads (symbol and word)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.console_pilot import console_app, wait_for_dashboard

from console.synthetic import write_finished_batch


async def test_no_color_dashboard_reads_without_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_dashboard(app, pilot, summary=True)
        await pilot.pause(0.2)
        assert app.no_color
        svg = app.export_screenshot()
    # Statuses carry words, not only colours.
    for word in ("done", "failed"):
        assert word in svg
    # Monochrome: every fill colour in the screenshot is a grey (r == g == b).
    import re

    # c5c8c6 is the SVG exporter's own default text colour (its terminal theme), not the app's.
    colours = set(re.findall(r"fill: #([0-9a-f]{6})", svg)) - {"c5c8c6"}
    assert colours, "no fills found in the screenshot"
    assert all(c[0:2] == c[2:4] == c[4:6] for c in colours), sorted(c for c in colours if not c[0:2] == c[2:4] == c[4:6])
