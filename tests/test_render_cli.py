"""`python -m core.render`: a params file in, a PNG out, and a one-line error for a bad file."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.argtypes import count, duration, port, positive_int
from core.render.__main__ import main, parse_size

REFERENCES = Path(__file__).resolve().parents[1] / "references"


def test_a_params_file_becomes_a_png_of_the_size_asked(tmp_path: Path) -> None:
    out = tmp_path / "ring.png"
    assert (
        main([str(REFERENCES / "ring-tunnel.json"), "-o", str(out), "--size", "96x54", "--quality", "draft"])
        == 0
    )
    image = np.asarray(Image.open(out))
    assert image.shape == (54, 96, 3) and image.max() > 0  # the rings drew light


def test_an_output_named_for_another_format_is_refused(tmp_path: Path, capsys) -> None:
    """PNG bytes were written under a .jpg name."""
    with pytest.raises(SystemExit):
        main([str(REFERENCES / "ring-tunnel.json"), "-o", str(tmp_path / "r.jpg")])
    assert "renders are written as PNG" in capsys.readouterr().err and not (tmp_path / "r.jpg").exists()
    assert main([str(REFERENCES / "ring-tunnel.json"), "-o", str(tmp_path / "R.PNG"), "--size", "16x9"]) == 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "bad.json: not JSON (Expecting value"),  # used to lose the file's name
        ("[1, 2]", "bad.json: expected a JSON object of parameters, found list"),
        ('{"geometry": "hexagon"}', 'geometry: unknown option: "hexagon"'),
    ],
)
def test_a_bad_params_file_is_one_line_naming_it(tmp_path: Path, capsys, text: str, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    assert main([str(bad), "-o", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_sizes_and_limits_say_what_is_allowed() -> None:
    assert parse_size("1652x919") == (1652, 919) and parse_size("64") == (64, 64)
    for parse, text, words in [
        (parse_size, "0x10", "must be positive"),
        (parse_size, "wide", "must look like"),
        (positive_int, "0", "at least 1"),
        (positive_int, "2.5", "expected a whole number"),
        (count, "-1", "at least 0"),
        (duration, "inf", "finite"),
        (duration, "-0.5", "at least 0"),
        (port, "70000", "0 to 65535"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=words):
            parse(text)
    assert count("0") == 0 and duration("0") == 0.0 and positive_int("3") == 3
