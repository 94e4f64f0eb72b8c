"""The end of a run: the search's best checked and fitted at the report's size, and drawn for the report.

Why a stage of its own: the search scores 160-px renders, where a stroke width, a grain, a CRT grille or
a colour hardly shows; the report judges exact renders at the target's size (compared at 512 px). So
what is handed over is fitted where it is judged: the stroke width scanned, the grain fitted, effects the
match does not need switched off, a short coordinate-descent polish, and the colour fitted to the
target's light. Each full-size value and image is kept per params, since the checks and the report ask
for the same handed-over params several times.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.imageio import resize, to_rgb_float
from core.metrics import WORKING_WIDTH, match_report
from core.params import identity
from core.refine.colour import fit_colour
from core.refine.effects import GROUPS as EFFECT_FITS
from core.refine.effects import fit_effects
from core.refine.loss import LOSSES, Loss, make_loss
from core.refine.polish import polish
from core.refine.space import EFFECT_GROUPS
from core.refine.stroke import fit_stroke
from core.render import render
from core.render.effects import apply_effects

COLOUR_TOLERANCE = 0.02
"""Share of the 512-px loss a colour fit may cost and still be kept (see `Finish.recoloured`)."""
SIMPLER_TOLERANCE = 0.01
"""Share of the loss an effect must be worth to stay on at the end of a run (see `Finish.simplified`)."""
FINAL_MAX_WIDTH = 1024
"""The final report renders the best at the target's size, at most this wide (it compares at 512 px)."""


def finish_words(before: float, after: float, at_search: float, measure: str, digits: int) -> str:
    """What the finish did to `measure` ("score", "loss") at the report's size, where it fits, beside its
    value at the search's size, which the finish does not aim at and a designer otherwise reads alone."""
    return (
        f"the finish, fitted at the report's {WORKING_WIDTH} px, took the {measure} there "
        f"{before:.{digits}f} → {after:.{digits}f} ({at_search:.{digits}f} at the search's size)"
    )


class Finish:
    """The report-size stage of one Refiner's runs against `target` (float RGB).

    loss_name: the run's loss (core.refine.loss.LOSSES), also taken at the report's size with the same
    `loss_options`; None (a Loss object of the caller's own) turns every fit off: the params are handed
    over as the search left them, and only drawn and reported. cancelled: whether the run was cancelled
    (the polish then does nothing). workers: renders at a time in the polish (threads)."""

    def __init__(
        self,
        target: np.ndarray,
        loss_name: str | None,
        loss_options: Mapping[str, Any],
        *,
        quality: str,
        seed: int,
        workers: int,
        polish_evals: int,
        cancelled: Callable[[], bool],
    ) -> None:
        self.target = target
        self.enabled = loss_name in LOSSES
        self.loss_name, self.loss_options = loss_name, dict(loss_options)
        self.quality, self.seed, self.workers = quality, seed, workers
        self.polish_evals = polish_evals if self.enabled else 0
        self.cancelled = cancelled
        self._full: Loss | None = None  # the loss at the report's size, made when first needed
        self._values: dict[str, float] = {}
        self.images: dict[str, np.ndarray] = {}
        """Full-size images drawn, by params identity (only the handed-over one's after `keep_only`)."""
        self.handed: dict[str, Any] | None = None
        """The params `finished` was last given: the search's best, or the start when that won."""

    def finished(self, params: dict[str, Any], stop: Callable[[], bool]) -> dict[str, Any]:
        """`params` after every fit, in order (each returns its input unchanged when nothing scores
        better); `stop` (a deadline, a cancel) ends the polish and shortens the grain's fit."""
        self.handed = params
        fitted = self.simplified(self.effects_fitted(self.stroke_fitted(params), stop))
        return self.recoloured(self.polished(fitted, stop))

    def losses(self, finished: dict[str, Any]) -> tuple[float, float] | None:
        """The loss at the report's size of the params `finished` was given and of its result `finished`:
        what the finish did, where it works; None before a finish or without a named loss. Both are kept
        from the fits, so this draws nothing new."""
        if self.handed is None or not self.enabled:
            return None
        return self.loss_at_full(self.handed), self.loss_at_full(finished)

    @property
    def full_loss(self) -> Loss:
        """The loss at the report's 512 px (its target, its size)."""
        if self._full is None:
            assert self.loss_name is not None, "no loss at the report's size without a named loss"
            self._full = make_loss(self.loss_name, self.target, WORKING_WIDTH, **self.loss_options)
        return self._full

    def loss_at_full(self, params: dict[str, Any], image: np.ndarray | None = None) -> float:
        """The params' loss at the report's size, kept per params; `image`: their final image when the
        caller has drawn it another way.

        Candidates are drawn as the report draws them (`final_image`: exact, at the target's size) and
        then scaled to 512 px: drawn at 512 px directly, grain and sub-pixel strokes are another pattern,
        and a grainy 320-px target's own params scored 1.08 (their report: ssim and lum_corr 1.00), so a
        run handed over worse params than its perfect start."""
        key = identity(params)
        if key not in self._values:
            full = self.full_loss
            drawn = self.final_image(params) if image is None else image
            self._values[key] = full(resize(to_rgb_float(drawn), *full.size))
        return self._values[key]

    def start_wins(self, start: dict[str, Any], best: dict[str, Any]) -> bool:
        """Whether the start scores better than the search's best at the report's size. The working size
        is a proxy: on near-perfect starts sub-pixel changes at 160 px made the 512-px match worse."""
        if best == start or not self.enabled:
            return False
        return self.loss_at_full(start) < self.loss_at_full(best)

    def final_image(self, params: dict[str, Any]) -> np.ndarray:
        """The exact render at the target's size (≤ FINAL_MAX_WIDTH), kept per params."""
        key = identity(params)
        if key not in self.images:
            self.images[key] = self._draw(params)
        return self.images[key]

    def report(self, params: dict[str, Any], lpips: bool = False) -> dict[str, Any]:
        """The match report of the params' final image against the target."""
        return match_report(self.target, self.final_image(params), lpips=lpips)

    def keep_only(self, params: dict[str, Any]) -> None:
        """Drop every full-size image but the handed-over params' (the finish draws ≈ 12 of ≤ 1024 px,
        ≈ 20 MB, and a Refiner may outlive its run in the app's session)."""
        key = identity(params)
        kept = self.images.get(key)
        self.images = {} if kept is None else {key: kept}

    def _draw(self, params: dict[str, Any]) -> np.ndarray:
        h, w = self.target.shape[:2]
        width = min(w, FINAL_MAX_WIDTH)
        return render(params, width, max(1, round(width * h / w)), quality="exact")

    def stroke_fitted(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with geoWidth scanned at the report's size (core.refine.stroke: at the working size a
        wide band of widths scores alike); `params` itself when no width scores better."""
        if not self.enabled:
            return params
        fitted, value = fit_stroke(params, self.loss_at_full(params), self.loss_at_full)
        return fitted if value < self.loss_at_full(params) else params

    def effects_fitted(
        self, params: dict[str, Any], stop: Callable[[], bool] | None = None
    ) -> dict[str, Any]:
        """`params` with its grain's settings fitted at the report's size (core.refine.effects: the grain
        only lines up with the target's there); `params` itself when it is off or no fit scores better.
        Every candidate is the clean render at the report's size with the effects laid on it: what
        `final_image` would draw (the rasteriser does not see the effects), without drawing the scene
        again; the fitted params' image is kept for the checks that follow. `stop` (the run's deadline or
        a cancel) shortens the fit (core.refine.effects.MIN_GENERATIONS)."""
        on = [g.name for g in EFFECT_FITS if params.get(g.name, {}).get("enabled")]
        if not on or not self.enabled:
            return params
        off = {g: {**params[g], "enabled": False} for g in EFFECT_GROUPS if params.get(g, {}).get("enabled")}
        clean = self.final_image({**params, **off})

        def score(candidate: Mapping[str, Any]) -> float:
            image = apply_effects(clean, candidate["noise"], candidate["crt"])
            return self.loss_at_full(dict(candidate), image)

        fitted, value = fit_effects(params, score, seed=self.seed, stop=stop)
        if value >= self.loss_at_full(params):
            return params
        self.images[identity(fitted)] = apply_effects(clean, fitted["noise"], fitted["crt"])
        return fitted

    def simplified(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with each effect (noise, crt) switched off that does not pay for itself at the report's
        size: off unless off costs more than SIMPLER_TOLERANCE of the loss at 512 px (exact renders).

        Why: at the 160-px working size a CRT grille's texture and bloom lower the loss on clean designs
        (figma-00: working loss 0.385 with CRT and grain, 0.422 without; at 512 px 0.638 with, 0.624
        without, and the report's ssim_skill −0.13 with, −0.06 without), so a start drawn with effects
        keeps them and a clean Figma design comes back with RGB mask stripes. ref.png, a render of the
        original, keeps its CRT (0.778 with, 0.832 without at 512 px). Returns `params` itself when
        nothing changes; a few exact renders at 512 px otherwise.
        """
        on = [g for g in EFFECT_GROUPS if isinstance(params.get(g), dict) and params[g].get("enabled")]
        if not on or not self.enabled:
            return params
        best, best_value = params, self.loss_at_full(params)
        for group in on:
            plain = {**best, group: {**best[group], "enabled": False}}
            value = self.loss_at_full(plain)
            if value <= best_value * (1.0 + SIMPLER_TOLERANCE):
                best, best_value = plain, value
        return best

    def polished(self, params: dict[str, Any], stop: Callable[[], bool]) -> dict[str, Any]:
        """`params` after coordinate descent on the loss at the report's size (core.refine.polish), up to
        `polish_evals` full-size renders, until `stop()`; `params` itself when cancelled, off, or nothing
        scores better. Each step up and down is scored together, `workers` renders at a time in threads;
        the candidates' images are dropped, not kept, but for the best one."""
        if self.polish_evals <= 0 or self.cancelled():
            return params
        start_value = self.loss_at_full(params)
        best_image: list[Any] = [start_value, None]  # the best candidate's value and (key, image)

        def evaluate(candidate: dict[str, Any]) -> tuple[str, np.ndarray | None, float]:
            key = identity(candidate)
            if key in self._values:  # scored before (the start, a stroke width): not drawn again
                return key, None, self._values[key]
            image = self._draw(candidate)
            return key, image, self.loss_at_full(candidate, image)

        with ThreadPoolExecutor(max(1, self.workers)) as pool:  # rendering and the loss release the GIL

            def score(batch: Sequence[dict[str, Any]]) -> list[float]:
                results = list(pool.map(evaluate, batch))
                for key, image, value in results:
                    if image is not None and value < best_image[0]:
                        best_image[:] = [value, (key, image)]
                return [value for _, _, value in results]

            fitted, value, _ = polish(params, start_value, score, max_evals=self.polish_evals, stop=stop)
        if value >= start_value:
            return params
        kept = best_image[1]
        if kept is not None and kept[0] == identity(fitted):
            self.images[kept[0]] = kept[1]  # the checks that follow and the report would redraw it
        return fitted

    def recoloured(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with its colours fitted to the target's light (core.refine.colour), kept when that
        costs at most COLOUR_TOLERANCE of the loss at 512 px (exact renders); else `params` itself.

        The losses hardly see colour, so without this a cream design comes back lavender or green. On
        the references the fit cost 0.0–1.4 % of the 512-px loss (figma-01's ssim_skill 0.089 → 0.103,
        lum_corr 0.771 → 0.757).
        """
        if not self.enabled:
            return params
        full = self.full_loss
        fitted = fit_colour(params, full.target, lambda p: render(p, *full.size, quality=self.quality))
        if fitted == params:
            return params
        costs_too_much = self.loss_at_full(fitted) > self.loss_at_full(params) * (1.0 + COLOUR_TOLERANCE)
        return params if costs_too_much else fitted
