"""The Gradio UI: `build_ui(home)` declares the app (layout), `handlers` wire events to the library
through small glue modules (match, pool, explore), `settings` persists the settings, `session` holds one
browser session's state."""

from app.ui.layout import build_ui

__all__ = ["build_ui"]
