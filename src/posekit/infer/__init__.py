"""Inference: where frames come from, the threaded stages, outputs, and Pipeline, the one way to
build a run.

options   InferOptions: every option of a run, validated once
sources   Frame, Source, open_source (files, folders, video, webcam, arrays)
models    load_detector, load_pose_estimator (the models a run uses)
detfile   DetectionFile: boxes from a detection json instead of a detector
threads   threaded(): a generator stage on its own thread behind a bounded queue
stages    detect_stage, pose_stage, process: the stage generators chained
outputs   RenderedOutputs: vis/ images and the rendered video
run       run_inference, RunSummary: a whole run, results streamed to disk
pipeline  Pipeline: models loaded once; pipe(image), pipe.stream(source), pipe.run(source)
"""
