"""Chinese numerals (一 … 九十九) both ways."""

from __future__ import annotations

CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


def cn_to_int(text: str) -> int | None:
    """一 … 九十九 (and 一百…); None if ``text`` is not a Chinese numeral."""
    if not text or any(c not in CN_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + CN_DIGITS[ch] if current else CN_DIGITS[ch]
    return total + current


def int_to_cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)
