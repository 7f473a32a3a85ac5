"""The public naming notice (通报): every listed or summoned item, with owner, reason and dates."""

from __future__ import annotations

import html
import shutil
import subprocess
import zipfile

import pytest


@pytest.fixture
def named(duban):
    duban.ok("owner", "add", "湖南省人民政府", "--kind", "government")
    duban.ok("owner", "add", "湖南省水利厅", "--parent", "湖南省人民政府")
    duban.ok("owner", "add", "湖南省交通运输厅", "--parent", "湖南省人民政府")
    ids = {
        "summoned": duban.ok(
            "add",
            "河道采砂整治",
            "--lead",
            "湖南省水利厅",
            "--due",
            "2024-01-31",
            "--code",
            "（二十）",
        ).stdout.strip(),
        "listed": duban.ok(
            "add", "船舶污染防治 <码头> & 岸电", "--lead", "湖南省交通运输厅", "--due", "2024-03-31"
        ).stdout.strip(),
        "supervised": duban.ok(
            "add", "航道整治", "--lead", "湖南省交通运输厅", "--due", "2024-04-25"
        ).stdout.strip(),
        "cleared": duban.ok(
            "add", "已整改事项", "--lead", "湖南省水利厅", "--due", "2024-03-01"
        ).stdout.strip(),
    }
    duban.ok("user", "add", "checker", "--role", "coordinator")
    duban.ok("sweep", as_of="2024-04-10")
    duban.ok("submit", ids["cleared"], "--evidence", "https://e.org/x", as_of="2024-05-01")
    duban.ok("verify", ids["cleared"], actor="checker", as_of="2024-05-02")
    duban.ok("sweep", as_of="2024-05-05")
    return ids


def test_markdown_notice_lists_listed_and_summoned(duban, named, tmp_path) -> None:
    out = tmp_path / "notice.md"
    result = duban.ok("notice", "--format", "md", "-o", str(out), as_of="2024-05-05")
    assert "2 items" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 督办事项通报（截至2024-05-05）")  # Chinese by default
    assert "以下2项事项被挂牌督办或约谈" in text
    lines = [line for line in text.splitlines() if line.startswith("| ") and "序号" not in line]
    assert len(lines) == 2
    summoned, listed = lines  # gravest first
    assert "约谈" in summoned and "（二十） 河道采砂整治" in summoned
    assert (
        "湖南省水利厅" in summoned and "湖南省人民政府" in summoned
    )  # responsible body, summoned body
    assert "2024-01-31" in summoned and "逾期" in summoned  # the reason, in Chinese
    # Escalated since the first sweep; summoned on 2024-05-05, so the report is due 30 days on.
    assert "| 2024-04-10 | 2024-06-04 |" in summoned
    assert "挂牌督办" in listed and "湖南省交通运输厅" in listed and "2024-03-31" in listed
    assert listed.endswith("| 2024-04-10 | — |")
    assert "航道整治" not in text and "已整改事项" not in text  # supervised only; resolved


def test_html_notice_is_escaped_and_complete(duban, named, tmp_path) -> None:
    out = tmp_path / "notice.html"
    duban.ok("notice", "--format", "html", "-o", str(out), as_of="2024-05-05")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert html.escape("船舶污染防治 <码头> & 岸电") in page and "<码头>" not in page
    assert page.count("<tr>") == 3  # header + two items


def test_english_notice_and_as_of(duban, named, tmp_path) -> None:
    out = tmp_path / "notice-en.md"
    duban.ok("notice", "-o", str(out), "--lang", "en", as_of="2024-05-05")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Public notice of supervised items (as of 2024-05-05)")
    assert "Summons" in text and "Public listing" in text and "days overdue" in text
    duban.ok("--lang", "en", "notice", "-o", str(out), "--as-of", "2024-04-10")
    early = out.read_text(encoding="utf-8")
    # As of the first sweep: two listings, one of them since cleared; the other item was
    # then only under a supervision notice.
    assert "Summons" not in early and "已整改事项" in early and "河道采砂整治" in early
    assert "船舶污染防治" not in early
    duban.ok("notice", "-o", str(out), "--as-of", "2024-01-15")
    assert "无挂牌督办或约谈事项" in out.read_text(encoding="utf-8")


def test_notice_bad_input(duban, named, tmp_path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "n.md"
    result = duban("notice", "-o", str(missing))
    assert result.exit_code == 2 and "cannot write" in result.stderr and not missing.exists()
    assert duban("notice", "--format", "pdf", "-o", str(tmp_path / "n.pdf")).exit_code == 2
    assert duban("notice", "--format", "md").exit_code == 2  # -o is required
    assert not (tmp_path / "n.pdf").exists()


def test_docx_notice_is_an_official_document(duban, named, tmp_path, monkeypatch) -> None:
    """GB/T 9704-2012: A4, standard margins, red masthead, 发文字号, title, 主送机关, headings by
    level, 落款 and 成文日期, page numbers; the fonts named for Word and WPS; no internal ids."""
    from docx import Document

    config = tmp_path / "duban.toml"
    config.write_text(
        '[document]\nissuer = "湖南省长江保护修复攻坚战领导小组办公室"\n'
        'number = "湘长江办〔2024〕5号"\nrecipients = "各市州人民政府，省直有关单位"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DUBAN_CONFIG", str(config))
    out = tmp_path / "通报.docx"
    result = duban.ok("notice", "--format", "docx", "-o", str(out), as_of="2024-05-05")
    assert "2 items" in result.stdout
    doc = Document(str(out))
    section = doc.sections[0]
    measured = [
        round(length.mm)
        for length in (
            section.page_width,
            section.page_height,
            section.top_margin,
            section.bottom_margin,
            section.left_margin,
            section.right_margin,
        )
    ]
    assert measured == [210, 297, 37, 35, 28, 26]  # A4; 天头 37 mm, 订口 28 mm
    texts = [p.text for p in doc.paragraphs]
    masthead = next(p for p in doc.paragraphs if p.text)
    assert masthead.text == "湖南省长江保护修复攻坚战领导小组办公室文件"
    assert str(masthead.runs[0].font.color.rgb) == "FF0000"
    assert "湘长江办〔2024〕5号" in texts
    title = next(p for p in doc.paragraphs if p.text == "关于挂牌督办和约谈事项的通报")
    assert title.runs[0].font.size.pt == 22  # 2号
    assert "各市州人民政府，省直有关单位：" in texts
    assert "一、约谈事项" in texts and "二、挂牌督办事项" in texts
    assert any(t.startswith("（一）（二十） 河道采砂整治") for t in texts)
    assert texts[-2:] == ["湖南省长江保护修复攻坚战领导小组办公室", "2024年5月5日"]
    with zipfile.ZipFile(out) as package:
        body = package.read("word/document.xml").decode()
        footers = "".join(
            package.read(n).decode() for n in package.namelist() if n.startswith("word/footer")
        )
        styles = package.read("word/styles.xml").decode()
    assert 'w:eastAsia="方正小标宋简体"' in body and 'w:eastAsia="黑体"' in body
    assert 'w:eastAsia="楷体_GB2312"' in body and 'w:eastAsia="仿宋_GB2312"' in styles
    assert "PAGE" in footers and "— " in footers
    assert "#" not in "".join(texts)  # names only, no internal ids


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_docx_notice_converts_to_pdf_showing_masthead_title_and_items(
    duban, named, tmp_path
) -> None:
    out = tmp_path / "notice.docx"
    duban.ok(
        "notice",
        "--format",
        "docx",
        "-o",
        str(out),
        "--issuer",
        "湖南省督办办公室",
        as_of="2024-05-05",
    )
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "notice.pdf"
    first_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    flat = "".join(first_page.split())
    assert "湖南省督办办公室文件" in flat  # the masthead
    assert "关于挂牌督办和约谈事项的通报" in flat
    assert "河道采砂整治" in flat and "船舶污染防治" in flat
