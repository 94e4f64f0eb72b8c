"""The one parameter schema of the bb-particles renderer and everything derived from it.

Flat SceneParams (the API's keys) are the working form; Leva-prefixed maps (refs.jsonl, the
original's control store) and c-strings (`/render?c=`) are converted at the boundaries.
`validate` checks and clamps like the original; `resolve` is exactly what the renderer consumes.
"""

from .codec import decode, encode
from .convert import detect_form, to_prefixed, to_scene_params
from .errors import CodecError, ParamsError
from .identity import identity
from .sampling import sample_params
from .schema import (
    ALPHA_PROGRESSIONS,
    CRT,
    CRT_MASKS,
    DITHER,
    FLAT_ALIASES,
    GEOMETRIES,
    GROUPS,
    LAYER_BASE_PARAMS,
    LAYER_OVERRIDE_NAMES,
    LAYER_OVERRIDE_PARAMS,
    MAIN_PARAMS,
    NOISE,
    ORIGINS,
    PALETTE,
    POSITION_PROGRESSIONS,
    ROTATION_PROGRESSIONS,
    SCALE_PROGRESSIONS,
    Group,
    Kind,
    Param,
    default_layer,
    defaults,
)
from .validate import resolve, validate

__all__ = [
    "ALPHA_PROGRESSIONS",
    "CRT",
    "CRT_MASKS",
    "DITHER",
    "FLAT_ALIASES",
    "GEOMETRIES",
    "GROUPS",
    "LAYER_BASE_PARAMS",
    "LAYER_OVERRIDE_NAMES",
    "LAYER_OVERRIDE_PARAMS",
    "MAIN_PARAMS",
    "NOISE",
    "ORIGINS",
    "PALETTE",
    "POSITION_PROGRESSIONS",
    "ROTATION_PROGRESSIONS",
    "SCALE_PROGRESSIONS",
    "CodecError",
    "Group",
    "Kind",
    "Param",
    "ParamsError",
    "decode",
    "default_layer",
    "defaults",
    "detect_form",
    "encode",
    "identity",
    "resolve",
    "sample_params",
    "to_prefixed",
    "to_scene_params",
    "validate",
]
