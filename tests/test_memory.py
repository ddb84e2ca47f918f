"""What a poll holds in memory (issue 12: a 25 MB message within a poll's memory): few copies
of a large message while parsing it, and no charting library loaded to poll."""

from __future__ import annotations

import random
import subprocess
import sys
import tracemalloc

from mailproc.intake.parsing.parser import parse
from tests.support.mail import Attachment, make_message

# Measured on a 4 MB message, the peak of parse over its size: 2.8 (the tree's payload
# string and the decoded attachment); 5.5 while base64 went through email's get_payload
# (encode, split, join, pad: four more copies); 7.7 while the structure check and mail-parser
# each parsed the whole message as one string in a StringIO (4 bytes a character).
MAX_PEAK_RATIO = 4.0


def test_parsing_a_large_message_peaks_at_a_few_copies_of_it() -> None:
    scan = Attachment("scan.pdf", random.Random(12).randbytes(3_000_000), "application/pdf")
    raw = make_message(subject="Referral letter, scan attached", body="See the scan.\n", attachments=[scan])
    tracemalloc.start()
    try:
        inbound = parse(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [a.data for a in inbound.attachments] == [scan.data]
    assert peak < MAX_PEAK_RATIO * len(raw), f"peak {peak / len(raw):.1f} × the message"


def test_the_commands_load_no_charting_library_until_a_report_is_drawn() -> None:
    # matplotlib (with numpy) is ~40 MiB of every process that loads it: poll and watch
    # must not pay it for the report command's charts.
    probe = "import sys, mailproc.cli; print(sorted({'matplotlib', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
