"""The app's layout: four tabs (Match, Explore, Gallery, Settings) wired to `handlers`. No logic here."""

from __future__ import annotations

import functools

import gradio as gr

from app.ui import explore, handlers, match, pool
from app.ui.settings import JUDGE_CHOICES
from core.refine import DEFAULT_BUDGET_EVALS, DEFAULT_BUDGET_SECONDS

STREAMED = "hidden"
"""show_progress of the two streamed runs (refine, explore). Each has its own status line, live plot and
preview, so gradio's pending overlay on their outputs says nothing new, and its animation cost most of a
core in headless Chromium on the 2-core VM: a 40-s refine of figma-00 in the browser made 5700–6680
evaluations with it and 9945 without (12041 through the same handler without a browser)."""

REPORT_MIN_WIDTH = 520
"""px: below twice this the report and the score plot stack (at 1024 px side by side, the report's table
wrapped its words letter by letter)."""
IMAGE_HEIGHT = 400
"""px: the target and the match are shown at most this tall, so a square design leaves the refine controls
on the first screen of a 900-px window."""

CSS = """
#match-report table { font-size: 0.9em; }
#match-report th:nth-child(-n+2), #match-report td:nth-child(-n+2) { white-space: nowrap; }
#guess-gallery, #guess-gallery .grid-wrap { height: auto !important; max-height: none !important; }
"""
"""The starts gallery grows to show every start: gradio's "auto" height capped it at ≈ 500 px, cutting its
second row in half with no sign that more lay below (a browser audit)."""


def thumbnails(label: str, columns: int, height: int | str, **options: object) -> gr.Gallery:
    """A gallery of whole renders (contained, not cropped to squares), clicked to pick, not to preview."""
    return gr.Gallery(
        label=label,
        columns=columns,
        height=height,
        allow_preview=False,
        fit_columns=False,
        object_fit="contain",
        **options,
    )


CACHE_CLEANUP = (3600, 86400)
"""(every, older than) in seconds: gradio's cache cleanup (Blocks' delete_cache)."""


def build_ui(home: str) -> gr.Blocks:
    """The Gradio Blocks app; `home` is the launch data directory (settings.json lives there)."""
    # Gradio copies every returned file and image into its cache: clear day-old copies hourly (and all of
    # them on restart), so a long-running app does not fill /tmp.
    with gr.Blocks(title="bb-match", delete_cache=CACHE_CLEANUP) as demo:
        session = gr.State(functools.partial(handlers.new_session, home), delete_callback=handlers.on_close)
        gr.Markdown("# bb-match · design → bb-particles parameters")

        with gr.Tab("Match", id="match"):
            upload = gr.File(
                label="Drop a design (PNG, SVG, PDF or any image)", elem_id="target-upload", height=120
            )
            match_status = gr.Markdown(
                "Drop a design (PNG, SVG, PDF or any image) to start.", elem_id="match-status"
            )
            with gr.Row(equal_height=True):
                target_image = gr.Image(
                    label="Target",
                    interactive=False,
                    elem_id="target-image",
                    format="png",
                    height=IMAGE_HEIGHT,
                )
                candidate_image = gr.Image(
                    label="Prediction / best so far",
                    interactive=False,
                    elem_id="candidate-image",
                    format="png",
                    height=IMAGE_HEIGHT,
                )
            with gr.Row():
                refine_evals = gr.Number(
                    DEFAULT_BUDGET_EVALS,
                    label="Refine budget: evaluations",
                    info="whichever limit comes first ends the search; 0 or empty: no limit of that kind",
                    precision=0,
                    elem_id="refine-evals",
                )
                refine_seconds = gr.Number(
                    DEFAULT_BUDGET_SECONDS,
                    label="…or seconds of search",
                    info=f"both empty: {DEFAULT_BUDGET_SECONDS:.0f} s; the full-size finish adds seconds",
                    elem_id="refine-seconds",
                )
                refine_button = gr.Button("Refine", variant="primary", elem_id="refine-btn")
                stop_button = gr.Button("Stop", variant="stop", elem_id="stop-btn")
            refine_status = gr.Markdown(elem_id="refine-status")
            with gr.Row():  # the figures beside the climbing score: both in view while a refine runs
                with gr.Column(scale=1, min_width=REPORT_MIN_WIDTH):
                    report = gr.Markdown(elem_id="match-report")
                with gr.Column(scale=1, min_width=REPORT_MIN_WIDTH):
                    score_plot = gr.LinePlot(
                        None,
                        x="evaluations",
                        y="score",
                        color="series",
                        title="Score per evaluation",
                        color_map={"best": "#1f77b4", "generation": "#ff7f0e"},
                        height=260,
                        elem_id="score-plot",
                    )
                    gr.Markdown(
                        "Score = 1 − loss/2: the mean of SSIM and lum_corr on blurred images at the "
                        f"search's small size. *generation*: the best of each {match.GENERATION_WINDOW} "
                        "evaluations (the starts take turns); *best*: the best so far.",
                        elem_id="score-plot-note",
                    )
            guesses = thumbnails(
                "Starts: refined attempts, then first guesses (click one to start from it)",
                6,
                "auto",
                elem_id="guess-gallery",
            )
            gap_image = gr.Image(
                label="Where the refined match differs: red = light it lacks, cyan = light it adds",
                interactive=False,
                elem_id="gap-image",
                format="png",
            )
            with gr.Row():
                save_button = gr.Button("Save to seed pool", elem_id="save-seed-btn")
                save_status = gr.Markdown(elem_id="save-status")
            with gr.Accordion("Parameters", open=False):
                with gr.Tab("Flat (API)"):
                    flat_json = gr.Code(language="json", interactive=False, elem_id="params-flat")
                with gr.Tab("Leva-prefixed (refs.jsonl)"):
                    leva_json = gr.Code(language="json", interactive=False, elem_id="params-leva")
                with gr.Tab("Open in bb-particles"):
                    original_link = gr.Markdown(elem_id="params-links")
                params_download = gr.File(label="Download", file_count="multiple", interactive=False)
                with gr.Row():
                    full_render_button = gr.Button(
                        "Render the match at the design's size (PNG)", elem_id="full-render-btn", scale=1
                    )
                    full_render = gr.File(
                        label="Full-size render", interactive=False, elem_id="full-render", scale=2
                    )

        with gr.Tab("Explore", id="explore") as explore_tab:
            explore_note = gr.Markdown(elem_id="explore-note")
            with gr.Row():
                with gr.Column(scale=3):
                    pool_gallery = thumbnails(
                        "Seed pool (newest; click to pick)", 6, 300, elem_id="pool-gallery"
                    )
                    pool_table = gr.Dataframe(
                        label="Seed pool", interactive=False, max_height=300, elem_id="pool-table"
                    )
                    with gr.Row():
                        refs_upload = gr.File(label="Import refs.jsonl", file_types=[".jsonl"], height=100)
                        export_pool_button = gr.Button("Export pool as refs.jsonl")
                        pool_file = gr.File(label="Pool export", interactive=False, height=100)
                    pool_status = gr.Markdown()
                with gr.Column(scale=2):
                    start_from = gr.Radio(
                        ["pool seed", "current match"], value="pool seed", label="Start from"
                    )
                    # text, not gr.Number: gradio 6 draws an empty Number as "0", its placeholder unseen
                    seed_id = gr.Textbox(
                        label="Seed id",
                        placeholder="click a pool seed",
                        elem_id="explore-seed-id",
                        max_lines=1,
                    )
                    explore_judge = gr.Dropdown(list(JUDGE_CHOICES), allow_custom_value=True, label="Judge")
                    explore_evals = gr.Number(
                        200,
                        label="Evaluations",
                        precision=0,
                        elem_id="explore-evals",
                    )
                    with gr.Row():
                        explore_button = gr.Button("Start", variant="primary", elem_id="explore-btn")
                        explore_stop = gr.Button("Stop", variant="stop")
                    explore_status = gr.Markdown(elem_id="explore-status")
                    unfinished = gr.Markdown(elem_id="explore-unfinished")
                    with gr.Row():
                        resume_id = gr.Textbox(
                            label="Resume run",
                            placeholder="a run id listed above",
                            elem_id="explore-resume-id",
                            max_lines=1,
                        )
                        resume_button = gr.Button("Resume", elem_id="explore-resume-btn")
                    explore_best = gr.Image(label="Best so far", interactive=False, format="png")
            explore_plot = gr.LinePlot(
                None,
                x="evaluations",
                y="score",
                color="series",
                title="Judge score per evaluation (1–10): the best so far, each generation's best, "
                "and the score a find needs",
                y_lim=[1, 10],
                x_axis_format="d",  # whole evaluations (a short run's default ticks read 0.2, 0.4, …)
                color_map=dict(zip(explore.SERIES, ("#1f77b4", "#ff7f0e", "#d62728"), strict=True)),
                height=240,
                elem_id="explore-plot",
            )
            explore_latest = thumbnails("Latest candidates", 8, 220)

        with gr.Tab("Gallery", id="gallery") as gallery_tab:
            with gr.Row():
                min_score = gr.Slider(1, 10, value=9, step=0.5, label="Score at least")
                judge_filter = gr.Textbox(label="Judge contains", placeholder="e.g. proxy")
                sort = gr.Dropdown(list(pool.SORTS), value="score ↓", label="Sort")
                gallery_refresh = gr.Button("Refresh")
            gallery_status = gr.Markdown(elem_id="gallery-status")
            finds = thumbnails("Finds", 5, 320)
            finds_table = gr.Dataframe(label="Finds", interactive=False, max_height=300, wrap=True)
            with gr.Row():
                find_id = gr.Textbox(label="Find id", placeholder="click a find in the gallery", max_lines=1)
                promote_button = gr.Button("Promote to seed")
                export_finds_button = gr.Button("Export finds as refs.jsonl")
                finds_file = gr.File(label="Finds export", interactive=False, height=100)
            find_params = gr.Code(language="json", interactive=False, label="Find parameters")
            find_links = gr.Markdown(elem_id="find-links")

        with gr.Tab("Settings", id="settings"):
            renderer = gr.Textbox(
                label="Renderer",
                info="'local' (the renderer twin) or the URL of an original /api/raster; refinement always "
                "scores with the twin",
            )
            judge = gr.Dropdown(
                list(JUDGE_CHOICES), allow_custom_value=True, label="Judge (default for Explore)"
            )
            checkpoint = gr.Textbox(label="Inverse-model checkpoint")
            data_dir = gr.Textbox(label="Data directory (seed pool, runs, ratings, gallery)")
            workers = gr.Slider(
                1,
                16,
                step=1,
                label="Worker processes (refine and explore)",
                info="At most one per core; `python -m benchmarks.throughput --workers 1,2,4` "
                "measures which count is fastest here",
            )
            original_url = gr.Textbox(
                label="bb-particles address",
                info="Where your bb-particles runs (`npm run dev`): the Match tab's links open a match there",
            )
            save_settings_button = gr.Button("Save settings", variant="primary", elem_id="save-settings-btn")
            settings_status = gr.Markdown(elem_id="settings-status")

        pool_views = [pool_table, pool_gallery]
        gallery_inputs = [session, min_score, judge_filter, sort]
        gallery_outputs = [finds, finds_table, gallery_status]

        demo.load(
            handlers.on_load,
            session,
            [
                renderer,
                judge,
                checkpoint,
                data_dir,
                workers,
                original_url,
                settings_status,
                explore_judge,
                explore_note,
                explore_button,
                *pool_views,
            ],
        )
        params_panel = [flat_json, leva_json, original_link, params_download]  # as match.params_outputs
        upload.upload(
            handlers.on_upload,
            [session, upload],
            [
                upload,
                match_status,
                target_image,
                candidate_image,
                report,
                *params_panel,
                score_plot,
                refine_status,
                guesses,
                gap_image,
                save_status,
            ],
            concurrency_limit=4,
        )
        guesses.select(
            handlers.on_guess_select,
            session,
            [
                match_status,
                candidate_image,
                report,
                *params_panel,
                score_plot,
                refine_status,
                gap_image,
                save_status,
            ],
        )
        refine_button.click(
            handlers.on_refine,
            [session, refine_evals, refine_seconds],
            [
                candidate_image,
                score_plot,
                refine_status,
                report,
                *params_panel,
                gap_image,
                guesses,
            ],
            concurrency_limit=4,
            show_progress=STREAMED,
        )
        stop_button.click(handlers.on_stop, session, None, concurrency_limit=None)
        full_render_button.click(handlers.on_full_render, session, full_render)
        save_button.click(handlers.on_save_seed, session, [save_status, *pool_views])

        explore_tab.select(handlers.on_pool_refresh, session, pool_views)
        explore_tab.select(handlers.on_unfinished_runs, session, unfinished)
        pool_table.select(handlers.on_pool_select, session, seed_id)
        pool_gallery.select(handlers.on_pool_select, session, seed_id)
        refs_upload.upload(
            handlers.on_import_refs, [session, refs_upload], [pool_status, *pool_views, refs_upload]
        )
        export_pool_button.click(handlers.on_export_pool, session, pool_file)
        explore_button.click(
            handlers.on_explore,
            [session, start_from, seed_id, explore_judge, explore_evals],
            [explore_status, explore_best, explore_latest, explore_plot, unfinished, *pool_views],
            concurrency_limit=2,
            show_progress=STREAMED,
        ).then(handlers.on_pool_refresh, session, pool_views).then(  # the finds' new seeds, at the end
            handlers.on_unfinished_runs,
            session,
            unfinished,  # a stopped run is listed for Resume
        )
        resume_button.click(
            handlers.on_explore_resume,
            [session, resume_id],
            [explore_status, explore_best, explore_latest, explore_plot, unfinished, *pool_views],
            concurrency_limit=2,
            show_progress=STREAMED,
        ).then(handlers.on_pool_refresh, session, pool_views).then(
            handlers.on_unfinished_runs, session, unfinished
        )
        explore_stop.click(handlers.on_explore_stop, session, None, concurrency_limit=None)

        for trigger in (
            gallery_tab.select,
            gallery_refresh.click,
            min_score.change,  # a drag's release and a typed number's Enter (release missed that)
            sort.change,
            judge_filter.submit,
        ):
            trigger(handlers.on_gallery, gallery_inputs, gallery_outputs, trigger_mode="always_last")
        finds_table.select(
            handlers.on_find_select, [session, finds_table], [find_id, find_params, find_links]
        )
        finds.select(handlers.on_find_select, [session, finds_table], [find_id, find_params, find_links])
        promote_button.click(
            handlers.on_promote, [session, find_id, min_score], [gallery_status, *pool_views]
        )
        export_finds_button.click(handlers.on_export_finds, gallery_inputs, finds_file)

        save_settings_button.click(
            handlers.on_save_settings,
            [session, renderer, judge, checkpoint, data_dir, workers, original_url],
            [settings_status, *pool_views, explore_judge],
        )
    return demo
