"""Is a video whose decoded frames stop early truncated, or just shorter than its container?

The decoder keeps the frames of a damaged tail (``FrameSource``), and a streamable container
(Matroska/WebM, fragmented or faststart MP4) cut short by an interrupted download still
opens and decodes up to the cut without an error. Its only trace is that the frames end well
before the duration the header declares. But the same shortfall is legitimate when another
stream outlasts the picture: a Matroska video stream has no duration of its own, so the probe
falls back to the container's, the longest stream's. Telling them apart takes one demux pass
(packets only, no decoding), and only when the shortfall is there: in a truncated file every
stream stops at the cut; in a file whose video stops decoding part-way (damaged data: the
decoder gives up, its error is swallowed as a damaged tail) the video packets go on past the
last decoded frame; otherwise the video packets end with the frames and another stream's
packets reach the declared end.
"""

from __future__ import annotations

from typing import Any

import av

from engine.errors import Undecodable


def tolerance_s(duration_s: float, fps: float) -> float:
    """Slack between a declared duration and the decoded extent (the frame-count check of
    ``validate_run`` uses the same: 3 frames or 5 %)."""
    return max(3.0 / fps if fps > 0 else 0.0, 0.05 * duration_s)


def packets_end_s(path: str) -> tuple[float, float, float]:
    """(container start, latest packet end over every stream, latest packet end of the first
    video stream -- the one the decoder reads), in seconds on the streams' own timeline."""
    end = video_end = 0.0
    with av.open(path) as container:
        video = container.streams.video[0]
        start = float(container.start_time or 0) / 1_000_000
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            t = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = max(end, t)
            if packet.stream.index == video.index:
                video_end = max(video_end, t)
    return start, end, video_end


def check_complete(path: str, duration_s: float, fps: float, first_t: float, last_t: float,
                   frames: int) -> dict[str, Any]:
    """Facts to record when the decoded video ends early but the file is whole (empty when it
    does not end early); raises :class:`Undecodable` when the file is truncated or its video
    stops decoding before its packets end."""
    if duration_s <= 1.0 or fps <= 0 or frames == 0:
        return {}
    decoded_end = last_t + 1.0 / fps
    video_s = max(0.0, last_t - first_t) + 1.0 / fps
    tol = tolerance_s(duration_s, fps)
    if duration_s - video_s <= tol:
        return {}
    try:
        start, end, video_end = packets_end_s(path)
    except av.error.FFmpegError as exc:
        raise Undecodable(f"{path}: damaged: demuxing failed after {frames} video frames ({exc})") from None
    if end - start < duration_s - tol:
        raise Undecodable(
            f"{path} is truncated or damaged: its streams end at {end - start:.2f} s of the {duration_s:.2f} s "
            f"the container declares ({frames} video frames decoded, {video_s:.2f} s)")
    if decoded_end < video_end - tol:
        raise Undecodable(
            f"{path} is damaged: its video stops decoding at {decoded_end - start:.2f} s, its packets go on "
            f"to {video_end - start:.2f} s ({frames} frames decoded)")
    # whole file, another stream runs longer: the frame-count check uses the video's own extent
    return {"video_duration_s": round(video_s, 6), "streams_end_s": round(end - start, 6)}
