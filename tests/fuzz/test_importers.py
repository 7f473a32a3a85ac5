"""Every importer against hostile files (random bytes, damaged and re-encoded valid files,
huge fields, control characters, deep nesting): exit 0 or 2, never a traceback, and a
failed import leaves the database as it was. Bounded by the ``ci`` profile (conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duban.core.testing import Runner

from .hostile import (
    CELL,
    CONTROLS,
    DATES,
    ENCODINGS,
    HUGE,
    INDICATORS,
    NUMBERS,
    PLACES,
    TEXT,
    check_import,
    csv_bytes,
    jsonl_line,
    maybe_mutated,
    mutated,
    xlsx_bytes,
)

# The documented headers of each spreadsheet importer (docs/measurements.md, docs/plugins/).
SPREADSHEETS: dict[str, list[str]] = {
    "measurements": ["指标", "地区", "站点", "时间", "数值", "分子", "分母", "来源", "备注"],
    "ledger": [
        "序号",
        "问题描述",
        "责任单位",
        "整改时限",
        "整改措施",
        "整改进展",
        "问题来源",
        "地区",
    ],
    "waste": [
        "地区",
        "时间",
        "生活垃圾清运量",
        "无害化处理量",
        "回收利用量",
        "街道社区总数",
        "已开展分类街道社区数",
        "备注",
    ],
    "water-readings": ["断面", "时间", "总磷", "氨氮", "高锰酸盐指数", "溶解氧", "pH", "备注"],
    "water-sections": [
        "断面编码",
        "断面名称",
        "所在地区",
        "河流湖库",
        "水体类型",
        "考核级别",
        "水质目标",
    ],
    "shipping": [
        "港口",
        "所在地区",
        "时间",
        "岸电泊位数",
        "使用岸电艘次",
        "岸电用电量",
        "应洗舱次数",
        "已洗舱次数",
    ],
    "shipping-receipts": [
        "联单编号",
        "船舶名称",
        "港口",
        "污染物类型",
        "数量",
        "单位",
        "接收时间",
        "转运时间",
        "处置时间",
    ],
    "fishing-ban": [
        "地区",
        "时间",
        "退捕渔船",
        "退捕渔民",
        "应参保人数",
        "已参保人数",
        "禁捕水域",
        "巡护覆盖水域",
    ],
    "fishing-ban-households": ["户编号", "地区", "认定日期", "就业日期", "备注"],
}
KINDS = sorted(SPREADSHEETS)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_csv(
    hunan_shared: Runner, fingerprint, tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    content = data.draw(maybe_mutated(csv_bytes(SPREADSHEETS[kind])))
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    check_import(hunan_shared, path, "import", kind, fingerprint=fingerprint)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_xlsx(
    hunan_shared: Runner, fingerprint, tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    content = data.draw(
        st.one_of(xlsx_bytes(SPREADSHEETS[kind]), xlsx_bytes(SPREADSHEETS[kind]).flatmap(mutated))
    )
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(content)
    check_import(hunan_shared, path, "import", kind, fingerprint=fingerprint)


# Obligations (JSONL) ---------------------------------------------------------------------
VALUE = st.one_of(
    CELL,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT, TEXT, max_size=3),
)
TARGET = st.fixed_dictionaries(
    {
        "indicator": st.one_of(INDICATORS, VALUE),
        "comparator": st.one_of(
            st.sampled_from(["gte", "lte", "~~", "decrease_pct", "trend_up"]), VALUE
        ),
        "value": st.one_of(st.floats(), NUMBERS, VALUE),
        "due": st.one_of(DATES, VALUE),
        "scope": st.one_of(
            st.none(),
            PLACES,
            st.fixed_dictionaries(
                {"type": st.sampled_from(["region", "site", "moon"]), "code": PLACES, "key": PLACES}
            ),
        ),
    }
)
OBLIGATION = st.fixed_dictionaries(
    {
        "title": st.one_of(TEXT, HUGE, st.tuples(TEXT, CONTROLS).map("".join), VALUE),
        "lead": st.one_of(st.lists(PLACES, max_size=2), VALUE),
    },
    optional={
        "code": st.one_of(st.sampled_from(["（一）", "（二十）", "X-1"]), VALUE),
        "plan": st.one_of(st.just("hunan-yangtze-2023"), VALUE),
        "state": st.one_of(st.sampled_from(["open", "closed", "finished"]), VALUE),
        "body": st.one_of(TEXT, HUGE, CONTROLS, VALUE),
        "region": st.one_of(PLACES, VALUE),
        "participants": st.one_of(st.lists(PLACES, max_size=2), VALUE),
        "milestones": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"due": st.one_of(DATES, VALUE)}, optional={"title": VALUE, "done": VALUE}
                ),
                max_size=2,
            ),
            VALUE,
        ),
        "targets": st.one_of(st.lists(TARGET, max_size=2), VALUE),
        "seq": VALUE,
        "parent": VALUE,
    },
)


@st.composite
def jsonl_bytes(draw: st.DrawFn) -> bytes:
    lines = [jsonl_line(o) for o in draw(st.lists(OBLIGATION, min_size=1, max_size=3))]
    if draw(st.booleans()):
        depth = draw(st.integers(10, 100_000))
        lines.append("[" * depth + "]" * depth)
    if draw(st.booleans()):
        whole = lines[0]
        lines.append(whole[: draw(st.integers(0, len(whole)))])
    return "\n".join(lines).encode(draw(ENCODINGS))


@given(data=st.data())
def test_jsonl(hunan_shared: Runner, fingerprint, tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "obligations.jsonl"
    path.write_bytes(data.draw(maybe_mutated(jsonl_bytes())))
    check_import(hunan_shared, path, "import", "obligations", fingerprint=fingerprint)


# Plans ----------------------------------------------------------------------------------
PLAN_LINE = st.one_of(
    st.tuples(
        st.sampled_from(
            ["（一）", "（二十）", "1.", "(1)", "一、", "第一条", "10000.", "（九十九）"]
        ),
        st.one_of(TEXT, HUGE, CONTROLS),
        st.sampled_from(
            [
                "",
                "到2025年年底",
                "（省生态环境厅牵头，省水利厅参与）",
                "2099年前完成",
                "（长沙市人民政府负责）",
            ]
        ),
    ).map("".join),
    TEXT,
    CONTROLS,
    st.just("#" * 7 + " 标题"),
)


@st.composite
def plan_text(draw: st.DrawFn) -> str:
    return "\n".join(draw(st.lists(PLAN_LINE, max_size=12)))


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@given(data=st.data())
def test_plan_text(
    hunan_shared: Runner, fingerprint, tmp_path: Path, suffix: str, data: st.DataObject
) -> None:
    text = data.draw(plan_text())
    content = data.draw(maybe_mutated(st.just(text.encode(data.draw(ENCODINGS)))))
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(content)
    check_import(hunan_shared, path, "import", "plan", fingerprint=fingerprint)


@given(data=st.data())
def test_plan_docx(hunan_shared: Runner, fingerprint, tmp_path: Path, data: st.DataObject) -> None:
    import io
    import re

    from docx import Document

    document = Document()
    for line in data.draw(plan_text()).splitlines():
        document.add_paragraph(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", line))
    out = io.BytesIO()
    document.save(out)
    path = tmp_path / "plan.docx"
    path.write_bytes(
        data.draw(
            st.one_of(st.just(out.getvalue()), mutated(out.getvalue()), st.binary(max_size=512))
        )
    )
    check_import(hunan_shared, path, "import", "plan", fingerprint=fingerprint)


YAML_SEED = (
    Path(__file__).parents[2] / "core" / "data" / "plans" / "hunan-yangtze-2023.yaml"
).read_bytes()[:6000]
YAML_BOMB = b'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n'


@given(data=st.data())
def test_plan_yaml(hunan_shared: Runner, fingerprint, tmp_path: Path, data: st.DataObject) -> None:
    import yaml

    random_yaml = st.recursive(
        st.one_of(VALUE, CONTROLS, HUGE),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)
        ),
        max_leaves=10,
    ).map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode())
    content = data.draw(
        st.one_of(
            random_yaml,
            mutated(YAML_SEED),
            st.just(YAML_BOMB),
            st.just(b"!!python/object/apply:os.system ['true']\n"),
            st.just(b"[" * 5000),
        )
    )
    path = tmp_path / "plan.yaml"
    path.write_bytes(content)
    check_import(hunan_shared, path, "import", "plan", fingerprint=fingerprint)
