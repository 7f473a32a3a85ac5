"""Water quality: GB 3838-2002 classification, monitoring sections, drinking water sources."""

from __future__ import annotations
