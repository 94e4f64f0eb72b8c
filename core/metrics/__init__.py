"""Image similarity: the match report and the pure functions it is built from.

torch is imported only when LPIPS is actually computed.
"""

from core.metrics.lpips_metric import (
    LpipsUnavailable,
    alexnet_checkpoint_path,
    clear_lpips_cache,
    load_lpips,
    lpips_distance,
    lpips_or_reason,
)
from core.metrics.report import (
    WORKING_WIDTH,
    flat_target_note,
    match_report,
    prepare_pair,
    target_notes,
    working_size,
)
from core.metrics.similarity import lum_corr, luminance, ssim, ssim_black, ssim_skill

__all__ = [
    "WORKING_WIDTH",
    "LpipsUnavailable",
    "alexnet_checkpoint_path",
    "clear_lpips_cache",
    "flat_target_note",
    "load_lpips",
    "lpips_distance",
    "lpips_or_reason",
    "lum_corr",
    "luminance",
    "match_report",
    "prepare_pair",
    "ssim",
    "ssim_black",
    "ssim_skill",
    "target_notes",
    "working_size",
]
