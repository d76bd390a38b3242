"""The dataset builder: snapshots (+ result store, + channel index) -> a training table.

Modules: ``settings`` (the ``[dataset]`` section), ``adapters`` (snapshot file formats),
``snapshots`` (cleaning), ``targets`` (multi-horizon targets and masks), ``channels``
(channel keys, index, history), ``video_features`` (result-store aggregation), ``features``
(the per-row feature functions shared with inference), ``youtube_api`` (channel enrichment),
``builder`` (the orchestrator). Importing this package imports no UI library.
"""
