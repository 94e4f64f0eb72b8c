"""The inverse model: image → renderer parameters (timm backbone + heads), its targets and checkpoints.

>>> from core.inverse import load_model, predict
>>> result = predict(load_model(), "design.png")   # result.params: flat SceneParams
"""

from core.inverse.checkpoint import (
    DEFAULT_CHECKPOINT,
    CheckpointError,
    load_model,
    read_checkpoint,
    save_checkpoint,
)
from core.inverse.encoding import BOOLEANS, CATEGORICALS, CONTINUOUS_NAMES, LAYER_MODES, decode, encode
from core.inverse.model import InverseModel, ModelConfig
from core.inverse.predict import Prediction, predict, predict_batch
from core.inverse.preprocess import frame_square, to_input

__all__ = [
    "BOOLEANS",
    "CATEGORICALS",
    "CONTINUOUS_NAMES",
    "DEFAULT_CHECKPOINT",
    "LAYER_MODES",
    "CheckpointError",
    "InverseModel",
    "ModelConfig",
    "Prediction",
    "decode",
    "encode",
    "frame_square",
    "load_model",
    "predict",
    "predict_batch",
    "read_checkpoint",
    "save_checkpoint",
    "to_input",
]
