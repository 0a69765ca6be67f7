"""IVR flows as data: a graph of typed nodes, validated before it can run.

A flow is YAML or JSON: a `start` node id and a map of nodes. Each node has a `type` and names
the node(s) to go to next. Texts are spoken in Mandarin (TTS) unless a recorded `prompt` is
named; they may use `{variables}` (`{member_number}`, `{agent.work_number}` …) set by earlier
nodes. `validate()` returns every problem at once, each with the node it is in, so the editor
can show errors where they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Variable = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Digit = Annotated[str, Field(pattern=r"^[0-9*#]$")]


ABOUT = r"^(route|hotel):[A-Za-z0-9_-]{1,16}$"
"""An enquiry's subject: a travel route or a hotel, by its code."""


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = ""
    """What the node is for, in the editor's words (shown in the tree view)."""
    about: str | None = Field(default=None, pattern=ABOUT)
    """What a caller reaching this node asks about — `route:YN6` (a travel route by its code),
    `hotel:SH-BUND` (a hotel) — counted as an enquiry in the IVR report (docs/reports.md)."""


class Speech(BaseModel):
    """Something said to the caller: a recorded prompt by name, or text spoken by TTS."""

    model_config = ConfigDict(extra="forbid")
    prompt: str | None = None
    text: str | None = None


class PlayNode(_Node):
    type: Literal["play"]
    say: Speech
    next: NodeId


class MenuNode(_Node):
    type: Literal["menu"]
    say: Speech
    options: dict[Digit, NodeId] = Field(min_length=1)
    timeout: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=3, ge=1, le=10)
    invalid: Speech = Speech(text="您的输入有误，请重新输入。")
    on_fail: NodeId
    """Where callers go who pressed nothing valid after every retry."""


class CollectNode(_Node):
    type: Literal["collect"]
    say: Speech
    variable: Variable
    max_digits: int = Field(default=20, ge=1, le=32)
    terminator: Digit = "#"
    first_timeout: float = Field(default=10.0, gt=0, le=60)
    next_timeout: float = Field(default=5.0, gt=0, le=60)
    next: NodeId
    on_empty: NodeId


class LookupNode(_Node):
    type: Literal["lookup"]
    function: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")
    """A named service function (`orders.latest_by_member` …); it gets the flow's variables."""
    result: Variable
    next: NodeId
    on_empty: NodeId


class SayNode(_Node):
    type: Literal["say"]
    text: str = Field(min_length=1)
    """Text with `{variables}`; numbers and dates in variables are read the Chinese way."""
    next: NodeId


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variable: str
    equals: str | None = None
    is_set: bool | None = None
    next: NodeId


class ConditionNode(_Node):
    type: Literal["condition"]
    cases: list[Case] = Field(min_length=1)
    default: NodeId


class SetNode(_Node):
    type: Literal["set"]
    variable: Variable
    value: str
    next: NodeId


class HoursNode(_Node):
    type: Literal["hours"]
    open: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    close: str = Field(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")
    days: Literal["all", "workdays", "holidays"] = "all"
    """`workdays` follows China's official calendar, make-up workdays included."""
    is_open: NodeId
    is_closed: NodeId


class TransferNode(_Node):
    type: Literal["transfer"]
    to: Literal["queue", "agent", "extension", "external"]
    target: str = Field(min_length=1, max_length=64)
    announce: Speech | None = None
    """Said to the caller once an agent answers; `{agent.work_number}` names the agent."""
    on_fail: NodeId
    """Where the call goes when nobody could take it (busy, no answer, queue closed)."""
    after: NodeId | None = None
    """Where the caller goes when the agent hangs up first (the post-call survey, T8)."""


class VoicemailNode(_Node):
    type: Literal["voicemail"]
    say: Speech
    max_seconds: int = Field(default=120, ge=5, le=600)
    next: NodeId


class SurveyNode(_Node):
    type: Literal["survey"]
    say: Speech
    variable: Variable = "survey_score"
    next: NodeId


class HangupNode(_Node):
    type: Literal["hangup"]
    say: Speech | None = None


class CountNode(_Node):
    """Adds one to `variable` each time a caller passes (wrong member numbers, say): on to `next`
    until the count reaches `limit`, then to `on_limit`."""

    type: Literal["count"]
    variable: Variable
    limit: int = Field(ge=1, le=100)
    next: NodeId
    on_limit: NodeId


class LogNode(_Node):
    """Writes `event` with its `detail` to the call's event log (the calls page shows it), and with
    `audit` to the audit trail too: what a supervisor or an auditor must be able to find later."""

    type: Literal["log"]
    event: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    detail: str = Field(default="", max_length=200)
    """Text with `{variables}`."""
    audit: bool = False
    next: NodeId


Node = Annotated[
    PlayNode | MenuNode | CollectNode | LookupNode | SayNode | ConditionNode | SetNode | HoursNode
    | TransferNode | VoicemailNode | SurveyNode | HangupNode | CountNode | LogNode,
    Field(discriminator="type"),
]  # fmt: skip
RESERVED = frozenset({"caller", "number"})
"""Variables the call sets (who calls, the number dialled): identity checks rely on them, so no
node may write them."""
_NODE = TypeAdapter(Node)


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    title: str = ""
    start: NodeId
    nodes: dict[NodeId, Node] = Field(min_length=1)


class FlowProblem(BaseModel):
    node: str | None
    """The node the problem is in (None: the flow as a whole)."""
    field: str | None = None
    message: str


def targets(node: _Node) -> dict[str, str]:
    """The node's outgoing edges: {field name: node id}."""
    found: dict[str, str] = {}
    for name in ("next", "on_fail", "on_empty", "default", "is_open", "is_closed", "after", "on_limit"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            found[name] = value
    if isinstance(node, MenuNode):
        found |= {f"options.{digit}": target for digit, target in node.options.items()}
    if isinstance(node, ConditionNode):
        found |= {f"cases.{n}.next": case.next for n, case in enumerate(node.cases)}
    return found


_FIELD = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\|(digits|money|date))?$")
_BRACES = re.compile(r"\{([^{}]*)\}")


def _template_problems(text: str | None) -> list[str]:
    """`{name}`, `{order.status}` or `{member_number|digits}` (also `|money`, `|date`)."""
    if not text:
        return []
    return [
        f"{{{name}}} is not a variable (name, a.b, name|digits)"
        for name in _BRACES.findall(text)
        if not _FIELD.match(name)
    ]


def parse(data: object, *, functions: frozenset[str] | None = None) -> tuple[Flow | None, list[FlowProblem]]:
    """Parse and check a flow; every problem at once, each at its node."""
    problems: list[FlowProblem] = []
    if not isinstance(data, dict):
        return None, [FlowProblem(node=None, message="a flow is a mapping with name, start and nodes")]
    raw_nodes = data.get("nodes")
    if isinstance(raw_nodes, dict):
        for node_id, raw in raw_nodes.items():
            try:
                _NODE.validate_python(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(part) for part in error["loc"][1:])
                    problems.append(FlowProblem(node=str(node_id), field=where or None, message=error["msg"]))
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        if not problems:
            for error in exc.errors():
                location = [str(part) for part in error["loc"]]
                node = location[1] if len(location) > 1 and location[0] == "nodes" else None
                problems.append(FlowProblem(node=node, field=".".join(location), message=error["msg"]))
        return None, problems
    return flow, check(flow, functions=functions)


def check(flow: Flow, *, functions: frozenset[str] | None = None) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    if flow.start not in flow.nodes:
        problems.append(
            FlowProblem(node=None, field="start", message=f"start node {flow.start!r} does not exist")
        )
    for node_id, node in flow.nodes.items():
        for field, target in targets(node).items():
            if target not in flow.nodes:
                problems.append(
                    FlowProblem(
                        node=node_id, field=field, message=f"goes to {target!r}, which does not exist"
                    )
                )
        if isinstance(node, LookupNode) and functions is not None and node.function not in functions:
            problems.append(
                FlowProblem(node=node_id, field="function", message=f"no lookup named {node.function!r}")
            )
        for field in ("say", "announce", "invalid"):
            speech = getattr(node, field, None)
            if isinstance(speech, Speech):
                if not speech.prompt and not speech.text:
                    problems.append(FlowProblem(node=node_id, field=field, message="say a prompt or a text"))
                problems += [
                    FlowProblem(node=node_id, field=field, message=m) for m in _template_problems(speech.text)
                ]
        if isinstance(node, SayNode | LogNode):
            field = "text" if isinstance(node, SayNode) else "detail"
            problems += [
                FlowProblem(node=node_id, field=field, message=m)
                for m in _template_problems(node.text if isinstance(node, SayNode) else node.detail)
            ]
        written = "result" if isinstance(node, LookupNode) else "variable"
        if getattr(node, written, None) in RESERVED:
            problems.append(
                FlowProblem(node=node_id, field=written, message="caller and number are set by the call")
            )
    reachable, stack = set(), [flow.start]
    while stack:
        current = stack.pop()
        if current in reachable or current not in flow.nodes:
            continue
        reachable.add(current)
        stack += targets(flow.nodes[current]).values()
    for node_id in flow.nodes:
        if node_id not in reachable:
            problems.append(FlowProblem(node=node_id, message="no path from the start reaches this node"))
    return problems


SHIPPED = Path(__file__).parent / "flows"
SHIPPED_NAMES = ("hotel", "travel")


def load_shipped(name: str) -> Flow:
    """One of the flows Hotline ships (hotel, travel), parsed and checked."""
    flow, problems = parse(yaml.safe_load((SHIPPED / f"{name}.yaml").read_text(encoding="utf-8")))
    if flow is None or problems:
        raise ValueError(f"shipped flow {name} is invalid: {problems}")
    return flow


def to_data(flow: Flow) -> dict[str, object]:
    """The flow as plain data (what is stored and edited), without defaults spelled out."""
    return flow.model_dump(mode="json", exclude_defaults=True)
