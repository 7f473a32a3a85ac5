"""The parse: a plan document's text into the ``duban-plan/1`` structure (docs/plan-import.md).

A hand-written state machine over lines and regular expressions over clauses. Whatever the
rules cannot interpret is reported in ``unparsed`` (task, text, why) rather than guessed.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..i18n import t
from .clauses import (
    BLANKET,
    BODY_SUFFIX,
    BY_CLAUSE,
    CLOSE,
    FILLER,
    IMPLEMENTERS,
    LEAD_LABELS,
    MARKED_LEAD,
    OPEN,
    PART_LABELS,
    ROLE,
    STANDING,
    is_responsibility,
    labelled_groups,
    parenthetical,
    split_alternative,
    split_clauses,
    split_names,
)
from .dates import AT_ONCE, ONGOING, RECURRING, deadline, issue_date, recurrence_of
from .division import DivisionRow, division_rows
from .documents import TABLE_SUFFIXES, Rows, read_source
from .goals import (
    END_STATES,
    HOLDS_FACT,
    STATE_GOAL,
    Goal,
    alternative_goal,
    match_goal,
    plain_number,
    split_scopes,
)
from .numerals import cn_to_int, int_to_cn
from .outline import Item, is_signature, match_level, split_document
from .reference import KnownIndicator, Reference, builtin_reference, norm_phrase, slug_hash

PLAN_FORMAT = "duban-plan/1"


@dataclass
class ParseResult:
    data: dict[str, Any]  # the duban-plan/1 structure
    unparsed: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """The ``--dry-run`` shape: plan, tasks (lead, participants, milestones, targets), unparsed."""
        return summarize(self.data, self.unparsed)


def summarize(data: dict[str, Any], unparsed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else (str(value) if value else None)

    meta = data.get("plan") or {}
    plan = {k: v for k, v in meta.items() if v is not None}
    for key in ("issued_on", "valid_until"):
        if key in plan:
            plan[key] = day(plan[key])
    tasks = [_task_summary(task, day) for task in data.get("tasks") or []]
    return {"plan": plan, "tasks": tasks, "unparsed": list(unparsed or [])}


def _task_summary(task: dict[str, Any], day: Any) -> dict[str, Any]:
    return {
        "code": task.get("code"),
        "title": task.get("title"),
        "lead": list(task.get("lead") or []),
        "participants": list(task.get("participants") or []),
        "milestones": [
            {
                "due": day(m.get("due")),
                "text": m.get("text"),
                **({"recurrence": m["recurrence"]} if m.get("recurrence") else {}),
            }
            for m in task.get("milestones") or []
        ],
        "targets": [
            {
                "indicator": g.get("indicator"),
                "name": g.get("name"),
                "comparator": g.get("comparator"),
                "value": g.get("value"),
                "unit": g.get("unit"),
                "due": day(g.get("due")),
                **({"baseline_year": g["baseline_year"]} if g.get("baseline_year") else {}),
                **({"alternative": g["alternative"]} if g.get("alternative") else {}),
            }
            for g in task.get("targets") or []
        ],
        "parts": [_task_summary(part, day) for part in task.get("parts") or []],
    }


def _part_title(text: str) -> str:
    """A part's title: its first sentence, or the start of it."""
    first = re.split(r"[。；;\n]", re.sub(r"^[（(]?\d{1,3}[）).．、]|^[\u2460-\u2473]", "", text))[
        0
    ]
    first = first.strip(" ，,")
    return first if len(first) <= 40 else first[:39] + "…"


_LEVEL = re.compile(r"(省|市|县|区|国家|国务院|中国|中央|全国|国网|长江)")
_TOGETHER = re.compile(
    r"([^，。；、（）()]{2,24}?)会同([^，。；（）()]{2,60}?)等?(?:有关|相关)?(?:部门|单位)"
)
DIVISION_TITLE = re.compile(r"(?:的)?(?:重点)?(?:任务)?分工(?:表|方案)?$")


class _Parser:
    def __init__(
        self,
        text: str,
        source: str,
        ref: Reference,
        division: tuple[list[str], list[DivisionRow]] | None = None,
    ) -> None:
        self.source = source
        self.division = division
        self.ref = ref
        self.unparsed: list[dict[str, Any]] = []
        text = (
            text.replace("\r\n", "\n")
            .replace("\r", "\n")
            .replace("\u3000", " ")
            .replace("\xa0", " ")
        )
        self.lines = [line.strip() for line in text.split("\n")]
        self.sites: dict[str, dict[str, Any]] = {}
        self.implementers: str | None = None
        self.issued: date | None = None
        self.use_aliases = True
        self.region_code: str | None = None
        self.starts: list[int] = []  # the line numbers of numbered items
        self.row_line: int | None = None  # the line of the table row being read
        self.span = (1, len(self.lines) + 1)  # the lines of the item being read
        self.plan_year: int | None = None
        self.year: int | None = None  # the nearest year stated before the clause being read

    def note(self, task: str | None, text: str, why: str, line: int | None = None) -> None:
        if line is None and self.row_line is not None:
            line = self.row_line
        elif line is None and text:
            probe = text.strip()[:16]
            first, end = self.span
            line = next(
                (no for no in range(first, end) if probe in self.lines[no - 1]),
                None,
            )
        self.unparsed.append({"task": task, "text": text, "why": why, "line": line})

    # -- the document as a whole
    def run(self) -> ParseResult:
        header, roots, footer = split_document(self.lines)
        self.starts = sorted(_line_numbers(roots))
        if self.division is not None:
            # the table's title row (…实施方案重点任务分工表) names the plan
            header += [DIVISION_TITLE.sub("", line) for line in self.division[0]]
        elif not roots:
            raise UserError(
                t(
                    "{path}: no numbered tasks found (expected items numbered （一）, 1. or (1))",
                    path=self.source,
                )
            )
        title = self._title(header)
        issued = issue_date(header) or issue_date(footer)
        if issued is None:
            self.note(None, "", t("no issue date found (a line such as 2023年3月6日)"))
        self.issued = issued
        rows = self.division[1] if self.division else []
        every = "\n".join([*self.lines, *(f"{r.task} {r.due}" for r in rows)])
        years = [int(y) for y in re.findall(r"(\d{4})年", every)]
        self.plan_year = issued.year if issued else (min(years) if years else None)
        self.use_aliases = self._home_document(title)
        self.region_code = self._plan_region(title)
        issuers = self._issuers(header, footer)
        valid_until = self._valid_until(footer + header, issued)

        if self.division is not None:  # the table lists the tasks; the text frames them
            chapters, framing, _ = self._walk(roots) if roots else ([], [], [])
            tasks = self._division_tasks(self.division[1])
        else:
            chapters, framing, tasks = self._walk(roots)
        if not tasks:
            raise UserError(
                t(
                    "{path}: no numbered tasks found (expected items numbered （一）, 1. or (1))",
                    path=self.source,
                )
            )
        self._leftovers(header, footer, framing, title)
        last_year = date(max(years), 12, 31) if years else None
        self._settle_dates(tasks, valid_until, valid_until or last_year)
        self._dedupe_overall_goals(tasks)
        meta: dict[str, Any] = {
            "key": f"plan-{slug_hash(title + str(issued))}",
            "title": title,
            "title_en": None,
            "issued_on": issued,
            "valid_until": valid_until,
            "issuers": issuers,
            "source": self._doc_number(header) or Path(self.source).name,
            "implementers": self.implementers or "none",
        }
        data = {
            "format": PLAN_FORMAT,
            "plan": meta,
            "owners": self._owners(issuers, tasks),
            "sites": list(self.sites.values()),
            "sections": chapters,
            "framing": framing,
            "tasks": tasks,
        }
        return ParseResult(data, self.unparsed)

    def _title(self, header: list[str]) -> str:
        """The plan's own title line (or two lines), the last before the items: not the
        covering notice (关于印发《…》的通知) nor a document the preamble quotes."""
        lines = [line for line in header if line]
        suffix = re.compile(
            r"(方案|计划|规划|意见|办法|要点|细则|清单|措施)(?:[（(][^（）()]*[）)])?$"
        )

        def plain(text: str) -> bool:
            return (
                bool(suffix.search(text))
                and len(text) <= 60
                and not re.search(r"[《》。，]|^关于|通知$", text)
            )

        found = None
        i = 0
        while i < len(lines):
            line = lines[i]
            if plain(line):
                found = line
            elif (
                i + 1 < len(lines)
                and plain(line + lines[i + 1])
                and not suffix.search(line)
                and not issue_date([line])
                and not is_signature(line)
            ):
                found = line + lines[i + 1]
                i += 1
            i += 1
        if found:
            return found
        m = re.search(r"印发《(.+?)》(?:的)?通知", "".join(header))
        if m:
            return m.group(1)
        if lines and len(lines[0]) <= 60:
            self.note(None, lines[0], t("no plan title found; the first line is used"))
            return lines[0]
        if self.division is not None:
            self.note(None, "", t("no plan title found; the file's name is used"))
            return Path(self.source).stem
        raise UserError(
            t("{path}: no plan title found before the first numbered item", path=self.source)
        )

    def _leftovers(
        self, header: list[str], footer: list[str], framing: list[dict], title: str
    ) -> None:
        """Sentences outside the tasks that hold a date, a figure or a body's name: listed for
        review, never dropped silently (the title, issuers, dates and validity are read)."""
        read = re.compile(r"有效期|施行|印发之日|^抄送|^附件")
        first_item = self.starts[0] if self.starts else len(self.lines) + 1
        blocks = [(1, first_item)]
        if footer:
            blocks.append((len(self.lines) - len(footer) + 1, len(self.lines) + 1))
        for start, end in blocks:
            for no in range(start, end):
                line = self.lines[no - 1]
                if (
                    not line
                    or is_signature(line)
                    or issue_date([line])
                    or self._doc_number([line])
                    or line.replace(" ", "") in title
                    or title in line
                    or read.search(line)
                ):
                    continue
                for sentence in re.split(r"(?<=[。！？；])", line):
                    if sentence.strip() and self._holds_fact(sentence):
                        self.note(None, sentence.strip(), t("not part of any task"), line=no)
        for item in framing:
            for sentence in re.split(r"(?<=[。！？；])", item.get("summary") or ""):
                if sentence.strip() and (
                    HOLDS_FACT.search(sentence) or re.search(r"\d{4}年", sentence)
                ):
                    self.note(item["code"], sentence.strip(), t("not part of any task"))

    def _holds_fact(self, sentence: str) -> bool:
        if HOLDS_FACT.search(sentence) or re.search(r"\d{4}年\d{1,2}月", sentence):
            return True
        return any(
            BODY_SUFFIX.search(name) and not BLANKET.search(name)
            for _, name in split_names(re.sub(r"[。！？；：:]", "、", sentence))
            if len(name) <= 16 and re.match(r"^(省|市|县|区)", name)
        )

    def _home_document(self, title: str) -> bool:
        """The known owners' short names (省水利厅) mean the home province's bodies only in a
        plan of that province."""
        other = re.match(r"^(.{2,8}?)(省|自治区)", title)
        return other is None or other.group(0) == self.ref.province

    def _plan_region(self, title: str) -> str | None:
        for name in sorted(self.ref.regions, key=len, reverse=True):
            if title.startswith(name):
                return self.ref.regions[name]
        return None

    def _issuers(self, header: list[str], footer: list[str]) -> list[str]:
        for block in (header, footer):
            dates = [i for i, line in enumerate(block) if issue_date([line])]
            if not dates:
                continue
            names: list[str] = []
            for line in reversed(block[: dates[0]]):
                if not line:
                    continue
                if not is_signature(line):
                    break
                names[:0] = [p for p in re.split(r"\s{2,}|\t", line.strip()) if p]
            if names:
                # "湖南省生态环境厅等十七部门" heads the notice: check the count against the signatures
                first = "".join([line for line in block if line][:2])
                count = re.search(r"等([一二三四五六七八九十]+|\d+)(?:个)?(?:部门|单位)", first)
                if count:
                    n = cn_to_int(count.group(1)) or (
                        int(count.group(1)) if count.group(1).isdigit() else None
                    )
                    if n and n != len(names):
                        self.note(
                            None,
                            count.group(0),
                            t(
                                "the title counts {n} issuing bodies; {m} are signed",
                                n=n,
                                m=len(names),
                            ),
                        )
                return [self._canonical(n) for n in names]
        self.note(None, "", t("no issuing bodies found (names above the issue date)"))
        return []

    def _valid_until(self, lines: list[str], issued: date | None) -> date | None:
        text = "".join(lines)
        m = re.search(r"有效期(?:至|到)(\d{4})年(\d{1,2})月(\d{1,2})日", text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = re.search(r"有效期(?:为)?(\d+|[一二三四五六七八九十])年", text)
        if m and issued:
            years = int(m.group(1)) if m.group(1).isdigit() else cn_to_int(m.group(1)) or 0
            end = (
                issued.replace(year=issued.year + years)
                if (issued.month, issued.day) != (2, 29)
                else date(issued.year + years, 2, 28)
            )
            return date.fromordinal(end.toordinal() - 1)
        return None

    def _doc_number(self, header: list[str]) -> str | None:
        """The document number (长政办发〔2024〕12号), on a line of its own."""
        for line in header:
            m = re.fullmatch(
                r"[\u4e00-\u9fa5]{1,8}[〔\[［(（]\d{4}[〕\]］)）]\d+号", line.replace(" ", "")
            )
            if m:
                return m.group(0)
        return None

    # -- items
    def _walk(self, roots: list[Item]) -> tuple[list[dict], list[dict], list[dict]]:
        chapters: list[dict] = []
        framing: list[dict] = []
        tasks: list[dict] = []
        expected = 1

        def visit(item: Item, section: str | None, path: str) -> None:
            nonlocal expected
            # a group heads numbered items and says nothing itself: "（一）保障饮用水安全"; a
            # heading ending in 。 ("3.推进管网改造。") is a task whose sub-items are its paragraphs
            is_group = (
                bool(item.children)
                and not item.lines
                and not item.heading.endswith("。")
                and not self._has_clause(item.heading)
            )
            if item.level == 0:
                number = int_to_cn(expected)
                if item.number != expected:
                    self.note(
                        None,
                        f"{item.label}{item.heading}",
                        t(
                            "chapter numbered {got} where {want} was expected; renumbered",
                            got=item.label.rstrip("、"),
                            want=number,
                        ),
                        line=item.line_no,
                    )
                expected += 1
                if is_group:
                    chapters.append(
                        {"number": number, "title": item.heading.rstrip("。"), "title_en": None}
                    )
                    section = number
            if is_group:
                for child in item.children:
                    visit(child, section, path if item.level == 0 else path + item.label)
                return
            self._item(item, section, path, framing, tasks)

        for root in roots:
            visit(root, None, "")
        codes = [task["code"] for task in tasks]
        if len(set(codes)) != len(codes):  # 1. 2. restarting under each group: qualify them
            for task in tasks:
                task["code"] = task.pop("_path") + task["code"]
        seqs = [task["seq"] for task in tasks]
        if any(b <= a for a, b in itertools.pairwise(seqs)):
            for i, task in enumerate(tasks, 1):
                task["seq"] = i
        for task in tasks:
            task.pop("_path", None)
            for part in task["parts"]:
                part["code"] = task["code"] + part.pop("_suffix")
        return chapters, framing, tasks

    def _has_clause(self, text: str) -> bool:
        return any(is_responsibility(c) for _, _, c in parenthetical(text))

    def _item(
        self, item: Item, section: str | None, path: str, framing: list[dict], tasks: list[dict]
    ) -> None:
        self.span = (item.line_no, self._next_start(item.line_no))
        heading = item.heading
        title, _, rest = heading.partition("。")
        if len(title) > 60:  # a paragraph, not a heading
            title, rest = title[:0], heading
        title = title.strip().rstrip("：:；;")
        body = "\n".join(x for x in [rest.strip(), *item.lines] if x)
        for child in item.children:
            body += f"\n{child.label}{child.all_text()}"
        code = item.label
        task = self._new_task(code, title or code, body)
        task.update({"seq": item.number, "section": section, "_path": path})
        goal_item = re.search(r"目标|任务指标", title) is not None
        units = [rest.strip(), *item.lines] + [f"{c.label}{c.all_text()}" for c in item.children]
        labels = [None] * (1 + len(item.lines)) + [c.label for c in item.children]
        groups = self._segments(task, [(u, lab) for u, lab in zip(units, labels, strict=True) if u])
        distinct = list(dict.fromkeys((tuple(g["lead"]), tuple(g["participants"])) for g in groups))
        if len(distinct) > 1:
            # paragraphs or sub-items naming their own responsible bodies: one part per group
            for n, key in enumerate(distinct, 1):
                members = [g for g in groups if (tuple(g["lead"]), tuple(g["participants"])) == key]
                text = "\n".join(g["text"] for g in members)
                only = members[0]["label"] if len(members) == 1 else None
                part = self._new_task(code, _part_title(text), text)
                part["_suffix"] = only or f"-{n}"
                part["lead"], part["participants"] = list(key[0]), list(key[1])
                self._dates_and_goals(part, text)
                task["parts"].append(part)
            own = "\n".join(g["text"] for g in groups if not g["lead"] and not g["participants"])
        else:
            own = "\n".join(g["text"] for g in groups)
        task["lead"] = list(dict.fromkeys(n for g in groups for n in g["lead"]))
        task["participants"] = [
            p
            for p in dict.fromkeys(n for g in groups for n in g["participants"])
            if p not in task["lead"]
        ]
        self._dates_and_goals(task, own)
        task["regions"] = self._regions(title)
        places = [r for r in self._regions(body) if r not in task["regions"]]
        if places:
            task["places"] = places
        task["domain"] = self._domain(task, title + body)
        for part in task["parts"]:
            part["domain"] = task["domain"]
        if not task["lead"] and not goal_item:
            if not task["milestones"] and not task["targets"]:
                framing.append(
                    {
                        "code": code,
                        "title": task["title"],
                        "title_en": None,
                        "summary": task["summary"],
                        "summary_en": None,
                    }
                )
                return
            self.note(code, title, t("no responsibility clause (牵头/负责/参与) names a lead"))
        task["_overall"] = goal_item
        tasks.append(task)

    def _division_tasks(self, rows: list[DivisionRow]) -> list[dict[str, Any]]:
        """A task per row of a division-of-work table, by the rules of the text: the lead cell
        may carry role words or markers, the deadline cell any date form."""
        tasks = []
        for n, row in enumerate(rows, 1):
            self.row_line = row.line
            number = row.number.rstrip("．.、")
            code = f"{number}." if number.isdigit() else number or f"{n}."
            task = self._new_task(code, _part_title(row.task), row.task)
            task.update({"seq": n, "section": None, "_overall": False})
            leads: list[str] = []
            participants: list[str] = []
            lead_cell = row.lead
            if is_responsibility(lead_cell) or MARKED_LEAD.search(lead_cell):
                leads, participants = self._role_clause(task, lead_cell)
            else:
                self._add_names(task, lead_cell, leads)
            self._add_names(task, row.participants, participants)
            task["lead"] = list(dict.fromkeys(leads))
            task["participants"] = [p for p in dict.fromkeys(participants) if p not in leads]
            self._dates_and_goals(task, row.task)
            self._row_deadline(task, row.due)
            task["domain"] = self._domain(task, row.task)
            tasks.append(task)
        self.row_line = None
        codes = [task["code"] for task in tasks]
        if len(set(codes)) != len(codes):
            for n, task in enumerate(tasks, 1):
                task["code"] = f"{n}."
        return tasks

    def _row_deadline(self, task: dict[str, Any], cell: str) -> None:
        """The deadline cell covers the row's undated goals, or is the row's milestone."""
        due, _, why = deadline(cell, year=self.plan_year)
        recurrence = None
        if why:
            self.note(task["code"], cell, why)
        if due is None and AT_ONCE.search(cell):
            due = self.issued
            if due is None:
                self.note(task["code"], cell, t("no issue date to date 立行立改"))
        elif due is None and (found := recurrence_of(cell, self._start())):
            recurrence, due, _ = found
        elif due is None and ONGOING.search(cell):
            task["ongoing"] = True
            return
        elif due is None and cell:
            self.note(task["code"], cell, t("a deadline that is not understood"))
            return
        if due is None:
            return
        undated = [x for x in (*task["milestones"], *task["targets"]) if x["due"] is None]
        for x in undated:
            x["due"] = due
        if not undated and all(m["due"] != due for m in task["milestones"]):
            milestone = {"due": due, "text": task["title"], "text_en": None}
            if recurrence:
                milestone["recurrence"] = recurrence
            task["milestones"].append(milestone)

    def _start(self) -> date | None:
        """Where recurring duties start: the issue date, else the plan's first year."""
        return self.issued or (date(self.plan_year, 1, 1) if self.plan_year else None)

    def _new_task(self, code: str, title: str, body: str) -> dict[str, Any]:
        return {
            "code": code,
            "title": title,
            "title_en": None,
            "domain": "general",
            "summary": body.strip() or None,
            "summary_en": None,
            "lead": [],
            "participants": [],
            "regions": [],
            "milestones": [],
            "targets": [],
            "parts": [],
        }

    def _next_start(self, line_no: int) -> int:
        i = bisect.bisect_right(self.starts, line_no)
        return self.starts[i] if i < len(self.starts) else len(self.lines) + 1

    def _canonical(self, name: str) -> str:
        if name in self.ref.owners:
            return name
        if self.use_aliases and name in self.ref.aliases:
            return self.ref.aliases[name]
        return name

    def _segments(
        self, task: dict[str, Any], units: list[tuple[str, str | None]]
    ) -> list[dict[str, Any]]:
        """The item's paragraphs and sub-items grouped by the responsibility that covers them:
        a clause covers the paragraphs since the previous one; a line of labelled groups
        (牵头单位：…) the paragraphs before it. Each group: text (without its clauses), lead,
        participants, label (the sub-item's, if the group is one sub-item)."""
        groups: list[dict[str, Any]] = []
        pending: list[tuple[str, str | None]] = []

        def close(lead: list[str], participants: list[str]) -> None:
            if not pending and groups and not groups[-1]["closed"]:
                groups[-1]["lead"] += lead  # 牵头单位： then 配合单位： on the next line
                groups[-1]["participants"] += participants
                return
            labels = [lab for _, lab in pending]
            groups.append(
                {
                    "text": "\n".join(text for text, _ in pending),
                    "lead": lead,
                    "participants": participants,
                    "label": labels[0] if len(labels) == 1 else None,
                    "closed": False,
                }
            )
            pending.clear()

        for unit, label in units:
            line_groups = self._labelled(unit)
            if line_groups is not None:
                lead, participants = self._roles(task, line_groups)
                close(lead, participants)
                continue
            text, lead, participants, found = self._clauses_in(task, unit)
            if groups:
                groups[-1]["closed"] = True
            pending.append((text, label))
            if found:
                close(lead, participants)
                groups[-1]["closed"] = True
        if pending:
            close([], [])
        for group in groups:
            group["lead"] = list(dict.fromkeys(group["lead"]))
            group["participants"] = [
                p for p in dict.fromkeys(group["participants"]) if p not in group["lead"]
            ]
        return groups

    def _labelled(self, line: str) -> list[tuple[str, str]] | None:
        """A line made only of labelled groups (责任单位：A、B；配合单位：C), bracketed or not."""
        inner = line.strip().rstrip("。；;")
        if inner[:1] in OPEN and inner[-1:] in CLOSE:
            inner = inner[1:-1]
        return labelled_groups(inner)

    def _clauses_in(
        self, task: dict[str, Any], text: str
    ) -> tuple[str, list[str], list[str], bool]:
        """(text without its responsibility clauses, leads, participants, whether any)."""
        leads: list[str] = []
        participants: list[str] = []
        kept: list[str] = []
        pos = 0
        found = False
        for start, end, content in parenthetical(text):
            groups = labelled_groups(content)
            if (
                groups is None
                and not is_responsibility(content)
                and not MARKED_LEAD.search(content)
            ):
                continue
            found = True
            kept += [text[pos:start], "。"]
            pos = end
            if groups is not None:
                lead, part = self._roles(task, groups)
            else:
                lead, part = self._role_clause(task, content)
            leads += lead
            participants += part
        kept.append(text[pos:])
        rest = "".join(kept)
        # 由A会同B负责 as a sentence of its own
        if "由" in rest:
            for m in BY_CLAUSE.finditer(rest):
                found = True
                lead, part = self._role_clause(task, m.group("clause"))
                leads += lead
                participants += part
            rest = BY_CLAUSE.sub("。", rest)
        # 牵头单位会同X等部门: the bodies a lead works "together with" take part
        for m in _TOGETHER.finditer(rest) if "会同" in rest else ():
            if self._canonical(m.group(1).strip()) in leads:
                self._add_names(task, m.group(2), participants)
        self._standing(rest)
        return rest, leads, participants, found

    def _standing(self, text: str) -> bool:
        """以下各项均需各县市区落实，不再列出: those bodies implement every later item."""
        if not (STANDING.search(text) or IMPLEMENTERS.search(text)):
            return False
        part = (STANDING.search(text) or IMPLEMENTERS.search(text)).group(0)  # type: ignore[union-attr]
        level = (
            "counties"
            if re.search(r"县|区", part) and "市州" not in part and "地方各级" not in part
            else "cities"
        )
        self.implementers = self.implementers or level
        return True

    def _role_clause(self, task: dict[str, Any], content: str) -> tuple[list[str], list[str]]:
        """(leads, participants) of a clause such as 省生态环境厅牵头，省水利厅等参与."""
        leads: list[str] = []
        participants: list[str] = []
        for part in (p.strip() for p in re.split(r"[，,；;。]", content)):
            if not part or FILLER.match(part) or self._special(task, part, leads, participants):
                continue
            m = ROLE.match(part)
            if not m or not m.group("names"):
                self.note(
                    task["code"],
                    part,
                    t("a part of the responsibility clause that is not understood"),
                )
                continue
            target = leads if m.group("role") in ("牵头", "负责", "共同负责") else participants
            names = m.group("names").removeprefix("由")
            if "会同" in names:
                main, _, others = names.partition("会同")
                names = main
                self._add_names(task, others, participants)
            self._add_names(task, names, target)
        return leads, participants

    def _special(
        self, task: dict[str, Any], names: str, leads: list[str], participants: list[str]
    ) -> bool:
        """A standing clause, or names with a marked lead (A（牵头）、B): read, True."""
        if self._standing(names):
            return True
        if not MARKED_LEAD.search(names):
            return False
        lead, part = self._marked(task, names)
        leads += lead
        participants += part
        return True

    def _marked(self, task: dict[str, Any], names: str) -> tuple[list[str], list[str]]:
        """A（牵头）、B、C: the marked bodies lead, the others take part."""
        tokens = re.split(r"[、，,]", names)
        marked = {i for i, tok in enumerate(tokens) if MARKED_LEAD.search(tok)}
        resolved = self._resolve(task, "、".join(MARKED_LEAD.sub("", tok) for tok in tokens))
        leads = [name for i, name in resolved if i in marked]
        return leads, [name for i, name in resolved if i not in marked]

    def _roles(
        self, task: dict[str, Any], groups: list[tuple[str, str]]
    ) -> tuple[list[str], list[str]]:
        """(leads, participants) of labelled groups. 责任单位 lead unless a 牵头单位 is named,
        then they take part; 配合/参与/协办单位 take part."""
        has_lead = any(label in LEAD_LABELS for label, _ in groups)
        leads: list[str] = []
        participants: list[str] = []
        for label, names in groups:
            if self._special(task, names, leads, participants):
                continue
            is_lead = label in LEAD_LABELS or (label not in PART_LABELS and not has_lead)
            self._add_names(task, names, leads if is_lead else participants)
        return leads, participants

    def _add_names(self, task: dict[str, Any], names: str, into: list[str]) -> None:
        into.extend(name for _, name in self._resolve(task, names))

    def _resolve(self, task: dict[str, Any], names: str) -> list[tuple[int, str]]:
        """(position in the list, canonical name) of each body a list of names holds."""
        out = []
        prefix = None
        for i, name in split_names(names):
            if BLANKET.search(name):
                continue
            if not BODY_SUFFIX.search(name):
                self.note(task["code"], name, t("not the name of a body"))
                continue
            if not out:
                prefix = self._level_prefix(name)
            elif prefix and self._level_prefix(name) is None and name not in self.ref.owners:
                # 市发展改革委、工业和信息化局: every body of the list is a 市 body
                name = prefix + name
            out.append((i, self._canonical(name)))
        return out

    def _level_prefix(self, name: str) -> str | None:
        """The administrative prefix a body's name opens with: 省, 市, 县, 区, or a place."""
        m = self.ref.region_pattern.match(name) if self.ref.region_pattern else None
        if m and len(name) > m.end():
            return m.group(0)
        m = _LEVEL.match(name)
        if m:
            return m.group(1) if m.group(1) in ("省", "市", "县", "区") else ""
        return None

    def _dates_and_goals(self, task: dict[str, Any], text: str) -> None:
        self.year = self.plan_year
        for line in text.split("\n"):
            numbered = match_level(line.strip())
            self._sentences(task, numbered[3] if numbered else line)

    def _sentences(self, task: dict[str, Any], text: str) -> None:
        for sentence in re.split(r"[。！？!?]", text):
            # a date standing as a clause of its own (到2025年年底，…) covers the clauses after
            # it in the sentence; a date inside a clause covers that clause only
            carried: tuple[date | None, str | None] = (None, None)
            for clause in split_clauses(sentence):
                stated = clause
                due, recurrence = carried
                found, rest, why = deadline(clause, year=self.year)
                if why:
                    self.note(task["code"], clause, why)
                if found:
                    due, recurrence = found, None
                    clause = rest
                elif "立" in clause and AT_ONCE.search(clause) and self.issued:
                    due, recurrence = self.issued, None
                    clause = AT_ONCE.sub("", clause)
                elif "每" in clause:
                    rec = recurrence_of(clause, self._start())
                    if rec:
                        recurrence, due, clause = rec
                    elif RECURRING.search(clause):
                        self.note(
                            task["code"],
                            clause,
                            t("a recurring deadline needs the plan's issue date"),
                        )
                years = re.findall(r"(\d{4})年", stated) if "年" in stated else None
                if years:
                    self.year = int(years[-1])
                clause = clause.strip(" ，,：:；;")
                if ONGOING.search(clause):
                    task["ongoing"] = True
                if not clause:
                    carried = (due, recurrence)
                    continue
                before = len(task["milestones"]) + len(task["targets"]) + len(self.unparsed)
                self._clause(task, clause, due, recurrence)
                if (
                    len(task["milestones"]) + len(task["targets"]) + len(self.unparsed) == before
                    and HOLDS_FACT.search(clause)
                    and not ONGOING.search(clause)
                ):
                    self.note(
                        task["code"], clause, t("a figure that is not a target or a deadline")
                    )

    def _clause(
        self, task: dict[str, Any], clause: str, due: date | None, recurrence: str | None
    ) -> None:
        primary, alternative = split_alternative(clause)
        goal, why = match_goal(primary)
        other = alternative_goal(alternative, goal) if alternative and goal else None
        if alternative and other is None:
            self.note(
                task["code"], alternative, t("an alternative goal (或…) that is not understood")
            )
        if goal is None:
            if why:
                self.note(task["code"], primary, why)
            if due is not None or STATE_GOAL.search(primary):
                milestone = {"due": due, "text": primary, "text_en": None}
                if recurrence:
                    milestone["recurrence"] = recurrence
                task["milestones"].append(milestone)
            return
        targets = self._targets(task, goal, primary, due)
        for target in targets if other else ():
            target["alternative"] = other  # one target, met either way
            target["text"] = clause
        if targets:
            task["targets"].extend(targets)
        elif due is not None or STATE_GOAL.search(primary) or goal.kind in END_STATES:
            # a goal without a number and nothing known to measure: a deliverable, not a target
            task["milestones"].append({"due": due, "text": primary, "text_en": None})

    def _targets(
        self, task: dict[str, Any], goal: Goal, text: str, due: date | None
    ) -> list[dict[str, Any]]:
        table = self.ref.indicators
        compound = table.split_compound(goal.name)
        parts: list[tuple[KnownIndicator | None, str]]
        if compound:
            parts = [(ind, norm_phrase(ind.name)) for ind in compound]
        else:
            known = table.find(goal.name) or table.find(goal.subject)
            if goal.unit == "class":
                known = table.by_key.get("water.section_class", known)
            elif goal.kind == "share" and re.search(
                r"国考断面水质(?:达到或优于|达到)?(?:III|Ⅲ)类", goal.subject
            ):
                known = table.by_key.get(
                    "water.national_section_good_quality_rate", known
                )  # 优良 = I～III类
            parts = [(known, goal.name)]
        if parts[0][0] is None and not goal.numeric:
            return []  # nothing known to measure: the caller makes it a milestone
        if goal.comparator in ("decrease_pct", "increase_pct") and goal.baseline_year is None:
            self.note(task["code"], text, t("no baseline year stated for a relative change"))
        out = []
        for indicator, name in parts:
            unit = goal.unit or (indicator.unit if indicator else None)
            if unit is None:
                self.note(task["code"], text, t("no unit stated"))
            scopes = (
                split_scopes(goal.subject, self.ref.regions) if len(parts) == 1 else [(None, name)]
            )
            for site, phrase in scopes:
                scoped = name if len(scopes) == 1 else phrase + name[len(goal.subject) :]
                target = {
                    "indicator": indicator.key
                    if indicator
                    else f"general.ind_{slug_hash(norm_phrase(name))}",
                    "name": scoped,
                    "name_en": None,
                    "comparator": goal.comparator,
                    "value": plain_number(goal.value),
                    "unit": unit,
                    "due": due,
                    "scope": self._scope(phrase, site),
                    "text": text,
                }
                if goal.baseline_year:
                    target["baseline_year"] = goal.baseline_year
                out.append(target)
        return out

    def _scope(self, phrase: str, site: str | None) -> dict[str, str]:
        m = self.ref.region_pattern.match(phrase) if self.ref.region_pattern else None
        if m:
            return {"region": self.ref.regions[m.group(0)]}
        if site:
            key = f"site-{slug_hash(site)}"
            kind = (
                "water_section"
                if "断面" in site
                else "lake"
                if site.endswith(("湖", "湖体"))
                else "river_reach"
            )
            self.sites.setdefault(
                key,
                {"key": key, "name": site, "kind": kind, "region": self.region_code, "attrs": {}},
            )
            return {"site": key}
        return {"region": self.region_code} if self.region_code else {}

    def _regions(self, body: str) -> list[str]:
        found: dict[str, int] = {}
        if self.ref.region_pattern is None:
            return []
        for m in self.ref.region_pattern.finditer(body):
            code = self.ref.regions[m.group(0)]
            # two-character names (南县, 攸县) not inside a longer word such as 湖南县城
            if code != self.region_code and (
                len(m.group(0)) > 2 or m.start() == 0 or body[m.start() - 1] not in "湖河江省"
            ):
                found.setdefault(code, m.start())
        return sorted(found, key=found.__getitem__)

    def _domain(self, task: dict[str, Any], text: str) -> str:
        domains = [g["indicator"].split(".")[0] for g in task["targets"]]
        domains = [d for d in domains if d != "general"]
        if domains:
            return max(set(domains), key=domains.count)
        for domain, words in (
            ("fishing_ban", "禁渔|退捕|捕捞"),
            ("shipping", "船舶|港口|码头|岸电"),
            ("waste", "垃圾|塑料|固体废物"),
            ("supervision", "督察|督办|监督执法|组织领导"),
            ("water", "水|河|湖|排污口"),
        ):
            if re.search(words, task["title"]):
                return domain
        return "general"

    # -- after all items are read
    def _settle_dates(
        self, tasks: list[dict], valid_until: date | None, until: date | None
    ) -> None:
        """Undated goals fall due when the plan expires; recurring duties recur until then (or
        the last year the plan names)."""
        every = [*tasks, *(part for task in tasks for part in task["parts"])]
        undated = any(
            x["due"] is None for task in every for x in (*task["milestones"], *task["targets"])
        )
        if valid_until is None and undated:
            self.note(
                None, "", t("no validity period found (有效期至…); undated goals have no due date")
            )
        for task in every:
            for x in (*task["milestones"], *task["targets"]):
                if x["due"] is None:
                    x["due"] = valid_until
            for m in task["milestones"]:
                if m.get("recurrence") and until is not None and valid_until is None:
                    m["until"] = until
            for x in (*task["milestones"], *task["targets"]):
                if x["due"] is None:  # dropped, but never silently
                    text = x.get("text") or x.get("name") or ""
                    self.note(
                        task["code"],
                        text,
                        t("an undated goal, and no validity period (有效期至…) for it to fall due"),
                        line=self._line_of(text),
                    )
            task["milestones"] = [m for m in task["milestones"] if m["due"] is not None]
            task["targets"] = [g for g in task["targets"] if g["due"] is not None]
            # a trend goal for something the same task also quantifies adds nothing
            quantified = {g["indicator"] for g in task["targets"] if g["value"] is not None}
            task["targets"] = [
                g
                for g in task["targets"]
                if g["value"] is not None or g["indicator"] not in quantified
            ]

    def _line_of(self, text: str) -> int | None:
        """The first line of the document holding the start of ``text``."""
        probe = text.strip()[:16]
        if not probe:
            return None
        return next((no for no, line in enumerate(self.lines, 1) if probe in line), None)

    def _dedupe_overall_goals(self, tasks: list[dict]) -> None:
        """The overall-goals item restates goals that tasks carry: keep each on its task only."""

        def key(g: dict) -> tuple:
            return g["indicator"], g["comparator"], g["value"], g["due"]

        carried = {
            key(g)
            for task in tasks
            if not task["_overall"]
            for x in (task, *task["parts"])
            for g in x["targets"]
        }
        for task in tasks:
            if task.pop("_overall"):
                task["targets"] = [g for g in task["targets"] if key(g) not in carried]

    def _owners(self, issuers: list[str], tasks: list[dict]) -> list[dict[str, Any]]:
        names = list(
            dict.fromkeys(
                [
                    *issuers,
                    *(
                        n
                        for task in tasks
                        for x in (task, *task["parts"])
                        for n in (*x["lead"], *x["participants"])
                    ),
                ]
            )
        )
        owners = []
        for name in names:
            known = self.ref.owners.get(name)
            if known is not None:
                owners.append(dict(known))
                continue
            kind = (
                "judicial"
                if re.search(r"法院|检察院$", name)
                else "government"
                if name.endswith("政府")
                else "enterprise"
                if re.search(r"公司|银行|分行|集团$", name)
                else "department"
            )
            owners.append(
                {
                    "name": name,
                    "name_en": None,
                    "kind": kind,
                    "region": self.region_code,
                    "aliases": [],
                }
            )
        return owners


def _line_numbers(items: list[Item]) -> list[int]:
    out = []
    for item in items:
        out.append(item.line_no)
        out.extend(_line_numbers(item.children))
    return out


def parse_plan(
    text: str,
    *,
    source: str = "plan",
    reference: Reference | None = None,
    tables: list[Rows] | None = None,
) -> ParseResult:
    """Parse a plan document's text (and its tables: a division-of-work table, if there is
    one, lists the tasks); UserError when it holds no tasks."""
    division = next(filter(None, (division_rows(table) for table in tables or [])), None)
    if not text.strip() and division is None:
        raise UserError(t("{path}: the file is empty", path=source))
    return _Parser(text, source, reference or builtin_reference(), division).run()


def parse_file(path: Path, *, reference: Reference | None = None) -> ParseResult:
    found = read_source(path)
    if path.suffix.lower() in TABLE_SUFFIXES and division_rows(found.tables[0]) is None:
        raise UserError(
            t(
                "{path}: not a division-of-work table (expected columns 重点任务 and 牵头单位)",
                path=path,
            )
        )
    return parse_plan(found.text, source=str(path), reference=reference, tables=found.tables)
