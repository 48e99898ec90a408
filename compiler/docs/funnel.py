"""The plan's state machine as a diagram: node boxes and routed edges, laid out in Python.

The layout is a grid read row by row, `columns` wide (4 for laptops, 2 for phones). An edge
between neighbours in a row is a straight arrow; from a row's end to the next row's start it
wraps below the row; any other edge goes straight down when the states share a column and
adjacent rows, else along a channel right of the grid. The template only draws what this decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.plan.model import FunnelState, Plan

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN, CHANNEL = 184, 78, 52, 60, 16, 28


@dataclass(frozen=True)
class Node:
    state_id: str
    name: str
    detail: str  # the event name, or a short form of the rule
    href: str
    x: int
    y: int
    stage_class: str  # "stage-<n>" or "stage-none"
    milestone: str  # milestone title, "" when none


@dataclass(frozen=True)
class Edge:
    path: str  # SVG path data
    label: str
    label_x: int
    label_y: int
    dashed: bool


@dataclass(frozen=True)
class Diagram:
    key: str  # unique per rendering, for element ids
    columns: int
    width: int
    height: int
    node_width: int
    node_height: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    description: str


def stage_classes(plan: Plan) -> dict[str, str]:
    """Each stage's colour class, by plan order (the stylesheet defines stage-0 ... stage-7)."""
    return {name: f"stage-{i % 8}" for i, name in enumerate(plan.stages)}


def _detail(state: FunnelState) -> str:
    if state.event:
        return state.event
    rule = state.rule
    if rule is None:
        return ""
    # The arrow into the box shows which state the rule follows; the box says the rule.
    if rule.kind == "active_within":
        return f"active within {rule.days}d"
    return f"inactive for {rule.days}d"


def _node(plan: Plan, state: FunnelState, slot: int, columns: int, root: str) -> Node:
    event = plan.events.get(state.event) if state.event else None
    stage = event.stages[0] if event and event.stages else None
    milestone = next((m.title for m in plan.milestones.values() if m.event == state.event), "")
    return Node(
        state_id=state.id,
        name=state.name,
        detail=_detail(state),
        href=(
            f"{root}events/{state.event}.html" if event else f"{root}funnel.html#state-{state.id}"
        ),
        x=MARGIN + (slot % columns) * (NODE_W + GAP_X),
        y=MARGIN + (slot // columns) * (NODE_H + GAP_Y),
        stage_class=stage_classes(plan)[stage] if stage else "stage-none",
        milestone=milestone,
    )


def _edge(a: Node, b: Node, columns: int, label: str, dashed: bool, grid_right: int) -> Edge:
    same_row, next_slot = a.y == b.y, b.x > a.x
    if same_row and next_slot and b.x - a.x == NODE_W + GAP_X:
        y = a.y + NODE_H // 2
        path = f"M{a.x + NODE_W},{y} H{b.x - 4}"
        return Edge(path, label, a.x + NODE_W + GAP_X // 2, y - 8, dashed)
    if b.y - a.y == NODE_H + GAP_Y and a.x == b.x:
        x = a.x + NODE_W * 2 // 3  # off-centre, clear of a wrap edge leaving the same box
        path = f"M{x},{a.y + NODE_H} V{b.y - 4}"
        return Edge(path, label, x + 8, a.y + NODE_H + GAP_Y // 2 + 4, dashed)
    if b.y - a.y == NODE_H + GAP_Y and b.x < a.x:
        mid = a.y + NODE_H + GAP_Y // 2
        ax, bx = a.x + NODE_W // 3, b.x + NODE_W // 2
        path = f"M{ax},{a.y + NODE_H} V{mid} H{bx} V{b.y - 4}"
        return Edge(path, label, (ax + bx) // 2, mid - 6, dashed)
    right = grid_right + CHANNEL
    ay, by = a.y + NODE_H // 2, b.y + NODE_H // 2
    path = f"M{a.x + NODE_W},{ay} H{right} V{by} H{b.x + NODE_W + 4}"
    # No room for a label in the channel; the target box already says what the edge means.
    return Edge(path, "", right, (ay + by) // 2, dashed)


def _percent(rate: float | None) -> str:
    """The default rate on an arrow; a transition without one is learned by `fit`."""
    return f"{rate * 100:.0f}%" if rate is not None else "fit"


def _rule_source(plan: Plan, state: FunnelState) -> FunnelState | None:
    """The state a rule state nothing transitions into hangs off: the hazard's people at risk,
    the rule's `after`, else the first chain state marked by one of the rule's events."""
    if state.rule is None:
        return None
    if plan.hazard is not None and plan.hazard.state == state.id:
        return plan.state(plan.hazard.at_risk)
    if state.rule.after:
        return plan.state(state.rule.after)
    return next((s for s in plan.chain if s.event in state.rule.events), None)


def diagram(plan: Plan, columns: int, root: str = "") -> Diagram:
    """The state machine laid out `columns` wide, with links relative to `root`."""
    nodes = tuple(_node(plan, s, i, columns, root) for i, s in enumerate(plan.states))
    by_id = {n.state_id: n for n in nodes}
    cols = min(columns, max(len(nodes), 1))
    grid_right = MARGIN + cols * NODE_W + (cols - 1) * GAP_X
    edges = []
    incoming = set()
    for t in plan.transitions:
        if t.from_state in by_id and t.to_state in by_id:
            edges.append(
                _edge(
                    by_id[t.from_state],
                    by_id[t.to_state],
                    columns,
                    _percent(t.rate),
                    False,
                    grid_right,
                )
            )
            incoming.add(t.to_state)
    for state in plan.states:
        # A rule state nothing transitions into (a churn state) hangs off the state it follows.
        source = _rule_source(plan, state)
        if state.rule is None or state.id in incoming or source is None:
            continue
        label = "inactive" if state.rule.kind == "inactive_for" else "active"
        edges.append(_edge(by_id[source.id], by_id[state.id], columns, label, True, grid_right))
    rows = (len(nodes) + columns - 1) // columns
    milestones = ", ".join(f"{n.name}: {n.milestone}" for n in nodes if n.milestone)
    chain = " → ".join(s.name for s in plan.states)
    return Diagram(
        key=f"c{columns}",
        columns=columns,
        width=grid_right + CHANNEL + MARGIN + 8,
        height=MARGIN * 2 + rows * NODE_H + max(rows - 1, 0) * GAP_Y,
        node_width=NODE_W,
        node_height=NODE_H,
        nodes=nodes,
        edges=tuple(edges),
        description=f"States {chain}." + (f" Milestones: {milestones}." if milestones else ""),
    )
