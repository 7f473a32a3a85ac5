"""The parse: a plan document's text into the ``duban-plan/1`` structure (docs/plan-import.md).

A hand-written state machine over lines and regular expressions over clauses. Whatever the
rules cannot interpret is reported in ``unparsed`` (task, text, why) rather than guessed.
"""

from __future__ import annotations

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
    FILLER,
    IMPLEMENTERS,
    ROLE,
    is_responsibility,
    parenthetical,
    split_alternative,
    split_clauses,
    split_names,
)
from .dates import RECURRING, deadline, issue_date, recurrence_of
from .documents import read_document
from .goals import END_STATES, STATE_GOAL, Goal, match_goal, plain_number, split_scopes
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
    tasks = []
    for task in data.get("tasks") or []:
        tasks.append(
            {
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
                    }
                    for g in task.get("targets") or []
                ],
            }
        )
    return {"plan": plan, "tasks": tasks, "unparsed": list(unparsed or [])}


class _Parser:
    def __init__(self, text: str, source: str, ref: Reference) -> None:
        self.source = source
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

    def note(self, task: str | None, text: str, why: str) -> None:
        self.unparsed.append({"task": task, "text": text, "why": why})

    # -- the document as a whole
    def run(self) -> ParseResult:
        header, roots, footer = split_document(self.lines)
        if not roots:
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
        self.use_aliases = self._home_document(title)
        self.region_code = self._plan_region(title)
        issuers = self._issuers(header, footer)
        valid_until = self._valid_until(footer + header, issued)

        chapters, framing, tasks = self._walk(roots)
        if not tasks:
            raise UserError(
                t(
                    "{path}: no numbered tasks found (expected items numbered （一）, 1. or (1))",
                    path=self.source,
                )
            )
        self._settle_dates(tasks, valid_until)
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
        joined = "".join(header)
        m = re.search(r"印发《(.+?)》(?:的)?通知", joined) or re.search(
            r"《(.+?(?:方案|计划|规划|意见|办法|要点))》", joined
        )
        if m:
            return m.group(1)
        lines = [line for line in header if line]
        suffix = re.compile(r"(方案|计划|规划|意见|办法|要点|细则|清单|措施)$")
        for i, line in enumerate(lines[:12]):
            if suffix.search(line) and len(line) <= 60:
                return line
            if (
                i + 1 < len(lines)
                and suffix.search(line + lines[i + 1])
                and len(line + lines[i + 1]) <= 60
            ):
                return line + lines[i + 1]
        if lines and len(lines[0]) <= 60:
            self.note(None, lines[0], t("no plan title found; the first line is used"))
            return lines[0]
        raise UserError(
            t("{path}: no plan title found before the first numbered item", path=self.source)
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
        return chapters, framing, tasks

    def _has_clause(self, text: str) -> bool:
        return any(is_responsibility(c) for _, _, c in parenthetical(text))

    def _item(
        self, item: Item, section: str | None, path: str, framing: list[dict], tasks: list[dict]
    ) -> None:
        heading = item.heading
        title, _, rest = heading.partition("。")
        if len(title) > 60:  # a paragraph, not a heading
            title, rest = title[:0], heading
        title = title.strip().rstrip("：:；;")
        body = "\n".join(x for x in [rest.strip(), *item.lines] if x)
        for child in item.children:
            body += f"\n{child.label}{child.all_text()}"
        code = item.label
        task: dict[str, Any] = {
            "code": code,
            "seq": item.number,
            "section": section,
            "title": title or code,
            "title_en": None,
            "domain": "general",
            "summary": body.strip() or None,
            "summary_en": None,
            "lead": [],
            "participants": [],
            "regions": [],
            "milestones": [],
            "targets": [],
            "_path": path,
        }
        goal_item = re.search(r"目标|任务指标", title) is not None
        text = self._assignments(task, body)
        self._dates_and_goals(task, text)
        task["regions"] = self._regions(body)
        task["domain"] = self._domain(task, title + body)
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

    def _canonical(self, name: str) -> str:
        if name in self.ref.owners:
            return name
        if self.use_aliases and name in self.ref.aliases:
            return self.ref.aliases[name]
        return name

    def _assignments(self, task: dict[str, Any], body: str) -> str:
        """Reads the responsibility clauses into lead/participants; returns the text without them."""
        leads: list[str] = []
        participants: list[str] = []
        kept: list[str] = []
        pos = 0
        for start, end, content in parenthetical(body):
            if not is_responsibility(content):
                continue
            kept.append(body[pos:start])
            kept.append("。")
            pos = end
            for part in (p.strip() for p in re.split(r"[，,；;。]", content)):
                if not part or FILLER.match(part):
                    continue
                if IMPLEMENTERS.search(part):
                    level = (
                        "counties"
                        if re.search(r"县|区", part)
                        and "市州" not in part
                        and "地方各级" not in part
                        else "cities"
                    )
                    self.implementers = self.implementers or level
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
                names = m.group("names")
                if "会同" in names:
                    main, _, others = names.partition("会同")
                    names = main
                    self._add_names(task, others, participants)
                self._add_names(task, names, target)
        kept.append(body[pos:])
        # 牵头单位会同X等部门: the bodies a lead works "together with" take part
        for m in re.finditer(
            r"([^，。；、（）()]{2,24}?)会同([^，。；（）()]{2,60}?)等?(?:有关|相关)?(?:部门|单位)",
            "".join(kept),
        ):
            if self._canonical(m.group(1).strip()) in leads:
                self._add_names(task, m.group(2), participants)
        task["lead"] = list(dict.fromkeys(leads))
        task["participants"] = [p for p in dict.fromkeys(participants) if p not in task["lead"]]
        return "".join(kept)

    def _add_names(self, task: dict[str, Any], names: str, into: list[str]) -> None:
        for name in split_names(names):
            if BLANKET.search(name):
                continue
            if not BODY_SUFFIX.search(name):
                self.note(task["code"], name, t("not the name of a body"))
                continue
            into.append(self._canonical(name))

    def _dates_and_goals(self, task: dict[str, Any], text: str) -> None:
        for line in text.split("\n"):
            numbered = match_level(line.strip())
            self._sentences(task, numbered[3] if numbered else line)

    def _sentences(self, task: dict[str, Any], text: str) -> None:
        for sentence in re.split(r"[。！？!?]", text):
            due: date | None = None
            recurrence: str | None = None
            for clause in split_clauses(sentence):
                found, rest, why = deadline(clause)
                if why:
                    self.note(task["code"], clause, why)
                if found:
                    due, recurrence = found, None
                    clause = rest
                else:
                    rec = recurrence_of(clause, self.issued)
                    if rec:
                        recurrence, due, clause = rec
                    elif RECURRING.search(clause):
                        self.note(
                            task["code"],
                            clause,
                            t("a recurring deadline needs the plan's issue date"),
                        )
                clause = clause.strip(" ，,：:；;")
                if clause:
                    self._clause(task, clause, due, recurrence)

    def _clause(
        self, task: dict[str, Any], clause: str, due: date | None, recurrence: str | None
    ) -> None:
        primary, alternative = split_alternative(clause)
        goal, why = match_goal(primary)
        if alternative:
            self.note(
                task["code"], alternative, t("an alternative goal (或…) is not kept as a target")
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
        for name in sorted(self.ref.regions, key=len, reverse=True):
            if phrase.startswith(name):
                return {"region": self.ref.regions[name]}
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
        found = {}
        for name, code in self.ref.regions.items():
            if code == self.region_code:
                continue
            for m in re.finditer(re.escape(name), body):
                # two-character names (南县, 攸县) not inside a longer word such as 湖南县城
                if len(name) > 2 or m.start() == 0 or body[m.start() - 1] not in "湖河江省":
                    found.setdefault(code, m.start())
                    break
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
    def _settle_dates(self, tasks: list[dict], valid_until: date | None) -> None:
        undated = any(
            x["due"] is None for task in tasks for x in (*task["milestones"], *task["targets"])
        )
        if valid_until is None and undated:
            self.note(
                None, "", t("no validity period found (有效期至…); undated goals have no due date")
            )
        for task in tasks:
            for x in (*task["milestones"], *task["targets"]):
                if x["due"] is None:
                    x["due"] = valid_until
            task["milestones"] = [m for m in task["milestones"] if m["due"] is not None]
            task["targets"] = [g for g in task["targets"] if g["due"] is not None]
            # a trend goal for something the same task also quantifies adds nothing
            quantified = {g["indicator"] for g in task["targets"] if g["value"] is not None}
            task["targets"] = [
                g
                for g in task["targets"]
                if g["value"] is not None or g["indicator"] not in quantified
            ]

    def _dedupe_overall_goals(self, tasks: list[dict]) -> None:
        """The overall-goals item restates goals that tasks carry: keep each on its task only."""

        def key(g: dict) -> tuple:
            return g["indicator"], g["comparator"], g["value"], g["due"]

        carried = {key(g) for task in tasks if not task["_overall"] for g in task["targets"]}
        for task in tasks:
            if task.pop("_overall"):
                task["targets"] = [g for g in task["targets"] if key(g) not in carried]

    def _owners(self, issuers: list[str], tasks: list[dict]) -> list[dict[str, Any]]:
        names = list(
            dict.fromkeys(
                [*issuers, *(n for task in tasks for n in (*task["lead"], *task["participants"]))]
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


def parse_plan(
    text: str, *, source: str = "plan", reference: Reference | None = None
) -> ParseResult:
    """Parse a plan document's text; UserError when it holds no numbered tasks."""
    if not text.strip():
        raise UserError(t("{path}: the file is empty", path=source))
    return _Parser(text, source, reference or builtin_reference()).run()


def parse_file(path: Path, *, reference: Reference | None = None) -> ParseResult:
    return parse_plan(read_document(path), source=str(path), reference=reference)
