"""SVG and PDF designs (core.vector via core.imageio): drawn at their size on black, or refused clearly."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.imageio import ImageInputError, to_rgb_float
from core.vector import is_svg

NS = 'xmlns="http://www.w3.org/2000/svg"'
RECT = (
    f'<svg {NS} width="320" height="180"><rect x="80" y="45" width="160" height="90" fill="#ff8000"/></svg>'
)


def test_an_svg_is_drawn_at_least_1024_px_wide_on_black(tmp_path: Path) -> None:
    path = tmp_path / "design.svg"
    path.write_text(RECT)
    image = to_rgb_float(path)
    assert image.shape == (576, 1024, 3) and image.dtype == np.float32  # 320×180 drawn 3.2× larger
    inside, outside = image[144:432, 256:768], np.concatenate([image[:140], image[436:]])
    assert np.allclose(inside, [1.0, 128 / 255, 0.0], atol=1 / 255)  # RGB order, not skia's BGRA
    assert outside.max() == 0.0  # transparent is black, as for PNGs


def test_a_tall_small_svg_is_enlarged_only_up_to_the_size_limit() -> None:
    image = to_rgb_float(f'<svg {NS} width="100" height="4000"/>'.encode())
    assert image.shape == (10000, 250, 3)  # 2.5×, not the 10.24× that would make it 1024 wide


def test_a_large_svg_keeps_its_size_and_a_viewbox_gives_one() -> None:
    big = f'<svg {NS} width="1652" height="919"><circle cx="826" cy="460" r="300" fill="white"/></svg>'
    assert to_rgb_float(big.encode()).shape == (919, 1652, 3)
    boxed = f'<?xml version="1.0"?>\n<!-- Figma -->\n<svg {NS} viewBox="0 0 1600 900">'
    boxed += '<rect width="9" height="9" fill="white"/></svg>'
    image = to_rgb_float(boxed.encode())
    assert image.shape == (900, 1600, 3) and image[:9, :9].min() == 1.0 and image[10:].max() == 0.0


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (f'<svg {NS} width="10" height="10"><rect', "could not be parsed"),
        (f'<svg {NS}><rect width="5" height="5"/></svg>', "no size (width and height, or a viewBox)"),
        (f'<svg {NS} width="20000" height="100"/>', "each side must be at most 10000 px"),
        (f'<svg {NS} width="2000" height="1"/>', "each side must be at least 8 px"),
    ],
    ids=["broken", "no-size", "huge", "thin"],
)
def test_svgs_that_cannot_be_used_say_why(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "design.svg"
    path.write_text(content)
    with pytest.raises(ImageInputError) as info:
        to_rgb_float(path)
    assert str(info.value).startswith(f"{path}: ") and says in str(info.value)


def test_svg_sniffing() -> None:
    assert is_svg(b"  <svg width='1'/>") and is_svg(b'<?xml version="1.0"?><svg/>')
    assert not is_svg(b'<?xml version="1.0"?><note/>') and not is_svg(b"\x89PNG\r\n")


def _pdf(image: Image.Image, pages: int = 1) -> bytes:
    """A PDF of `image` at one point a pixel (Pillow embeds it as a raster page), `pages` times."""
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=72, save_all=pages > 1, append_images=[image] * (pages - 1))
    return buffer.getvalue()


def test_a_pdf_export_is_drawn_from_its_first_page(tmp_path: Path) -> None:
    design = Image.new("RGB", (320, 180))
    design.paste((255, 128, 0), (80, 45, 240, 135))
    path = tmp_path / "frame.pdf"
    path.write_bytes(_pdf(design, pages=2))
    image = to_rgb_float(path)
    assert image.shape == (576, 1024, 3)  # one point a pixel, drawn 3.2× larger
    assert np.allclose(image[160:416, 272:752], [1.0, 128 / 255, 0.0], atol=8 / 255)  # RGB; JPEG inside
    assert image[:130].max() < 0.02 and image[450:].max() < 0.02


def test_a_broken_pdf_says_so(tmp_path: Path) -> None:
    path = tmp_path / "frame.pdf"
    path.write_bytes(b"%PDF-1.7\nnot really a pdf")
    with pytest.raises(ImageInputError, match="the PDF could not be opened"):
        to_rgb_float(path)
