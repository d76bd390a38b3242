"""Peak memory of the whole-track audio decode (docs: about twice the float32 signal)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.unit.audio.audio_synth import write_audio

# writing 5 to clear_refs resets the peak RSS (VmHWM, Linux >= 4.0): the decode's own peak is
# measured, not an earlier one of the imports
_MEASURE = """
import sys
from engine.extractors.audio.decode import decode_audio

def kib(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))

decode_audio(sys.argv[2])  # FFmpeg initialised
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = kib("VmRSS:")
audio = decode_audio(sys.argv[1])
print((kib("VmHWM:") - before) * 1024 / audio.samples.nbytes)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc peak-RSS reset")
def test_decode_peak_is_about_twice_the_signal(tmp_path: Path) -> None:
    # decoded AAC frames were kept alive by views into their (larger) buffers until the final
    # concatenation: 3.5x the signal at peak; with copies of the samples: 2.3x
    rng = np.random.default_rng(0)
    long = write_audio(tmp_path / "long.m4a", (0.2 * rng.standard_normal((2, 48000 * 30))).astype(np.float32),
                       48000, "aac", "stereo", "fltp")
    short = write_audio(tmp_path / "short.m4a", np.zeros((2, 4800), np.float32), 48000, "aac", "stereo", "fltp")
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(long), str(short)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[3])
    assert float(out.stdout.strip()) < 2.8
