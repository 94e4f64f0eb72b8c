"""Render the project's own example targets (PNG + the exact flat params as JSON) into references/.

    python -m references.make_references

Self-made, so their parameters are known: validate.py on them shows how close the inverse model
gets when an exact answer exists (the plan's ref.png case), at square and Figma-like aspects.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.imageio import save_png
from core.render import render

HERE = Path(__file__).resolve().parent

SCENES: dict[str, tuple[int, int, dict]] = {
    "ring-tunnel": (
        1024,
        1024,
        {
            "geometry": "ring",
            "repetitions": 160,
            "scaleFactor": 0.985,
            "rotationFactor": 0.01,
            "alphaFactor": 0.55,
            "stepFactor": 0.3,
            "xStep": 0.4,
            "yStep": 0.2,
            "origin": "center",
            "scale": 0.9,
            "color": "#FFFDDD",
            "layers": [],
        },
    ),
    "arch-fan-wide": (
        1652,
        919,
        {
            "geometry": "arch",
            "repetitions": 240,
            "scaleFactor": 1.004,
            "rotationFactor": -0.12,
            "rotationProgression": "sine",
            "alphaFactor": 0.8,
            "alphaProgression": "linear",
            "stepFactor": 0.05,
            "xStep": -1.2,
            "yStep": 0.3,
            "origin": "top-center",
            "scale": 0.6,
            "color": "#FFE4B5",
            "layers": [],
        },
    ),
    "square-mirror-y": (
        1024,
        1024,
        {
            "geometry": "roundedRect",
            "repetitions": 120,
            "scaleFactor": 1.01,
            "rotationFactor": 0.03,
            "alphaFactor": 0.6,
            "stepFactor": 0.1,
            "xStep": 0.8,
            "yStep": -0.6,
            "origin": "center",
            "scale": 0.35,
            "color": "#dadada",
            "layers": [{"position": {"x": 0, "y": 0}, "rotation": 0, "scale": {"x": 1, "y": -1}}],
        },
    ),
}


def main() -> None:
    for name, (width, height, params) in SCENES.items():
        save_png(render(params, width, height, quality="exact"), HERE / f"{name}.png")
        (HERE / f"{name}.json").write_text(json.dumps(params, indent=1) + "\n")
        print(name, width, height)


if __name__ == "__main__":
    main()
