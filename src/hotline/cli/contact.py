"""`hotline ivr …` (check, dry-run) and `hotline simulate`: flows and staffing, offline."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hotline.cli.common import fail, run, with_context

app = typer.Typer(help="IVR flows.", no_args_is_help=True)


def _flow(name_or_file: str) -> Any:
    from pathlib import Path

    import yaml

    from hotline.contact.ivr.flow import SHIPPED, parse
    from hotline.contact.ivr.lookups import lookup_names

    path = Path(name_or_file)
    if not path.is_file():
        path = SHIPPED / f"{name_or_file}.yaml"
    if not path.is_file():
        fail(f"no flow file {name_or_file!r} and no shipped flow of that name (hotel, travel)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail(f"{path} is not YAML: {exc}")
    flow, problems = parse(data, functions=lookup_names())  # lookups named must exist
    for problem in problems:
        where = f"node {problem.node}" if problem.node else "flow"
        typer.secho(f"{where}{f' ({problem.field})' if problem.field else ''}: {problem.message}", err=True)
    if flow is None or problems:
        fail(f"{path}: {len(problems)} problem(s)")
    return flow


@app.command("check")
def ivr_check(flow: Annotated[str, typer.Argument(help="A flow file, or a shipped flow's name")]) -> None:
    """Validate a flow; every problem is printed with its node, exit 1 if there are any."""
    checked = _flow(flow)
    typer.echo(f"{checked.name}: {len(checked.nodes)} nodes, no problems")


@app.command("dry-run")
def ivr_dry_run(
    flow: Annotated[str, typer.Argument(help="A flow file, or a shipped flow's name")],
    keys: Annotated[str, typer.Option(help="The keys the caller presses, in order, e.g. 18800123#2")] = "",
    no_agent: Annotated[bool, typer.Option(help="No agent answers transfers")] = False,
) -> None:
    """Walk a flow as a caller pressing KEYS (simulated, in virtual time) and print the path."""
    import re

    from hotline.contact.ivr.dry_run import dry_run
    from hotline.domains import ivr_lookups

    async def nothing_found(variables: object) -> None:  # the dry run reads no data: lookups find nothing
        return None

    if not re.fullmatch(r"[0-9*#]*", keys):
        fail("--keys takes only 0-9, * and #")
    checked = _flow(flow)
    lookups = dict.fromkeys(ivr_lookups(), nothing_found)
    result = dry_run(checked, keys, agent_answers=not no_agent, lookups=lookups)
    for step, node_id in enumerate(result.path, 1):
        node = checked.nodes[node_id]
        typer.echo(f"{step:>2}. {node_id} [{node.type}] {node.label}")
    typer.echo("said:")
    for line in result.said:
        typer.echo(f"    {line}")
    typer.echo(f"outcome: {result.outcome}")


def simulate(
    agents: Annotated[int, typer.Option(min=1, max=5000, help="Agents on duty")] = 12,
    calls_per_hour: Annotated[float, typer.Option(min=0.1, max=1_000_000)] = 200.0,
    handle: Annotated[float, typer.Option(min=1, max=36_000, help="Mean handle time, seconds")] = 180.0,
    calls: Annotated[int, typer.Option(min=1, max=10_000_000)] = 20_000,
    patience: Annotated[
        float, typer.Option(min=0, max=36_000, help="Mean patience, seconds (0: nobody gives up)")
    ] = 0.0,
    wrap: Annotated[float, typer.Option(min=0, max=3600, help="Wrap-up after each call, seconds")] = 0.0,
    strategy: Annotated[
        str, typer.Option(help="longest-idle, round-robin, fewest-calls, skill-level-first")
    ] = ("longest-idle"),
    seed: Annotated[int, typer.Option()] = 1,
    replay_day: Annotated[
        str, typer.Option("--replay", help="Replay this day (YYYY-MM-DD) of the event log instead")
    ] = "",
) -> None:
    """Run the real routing code on simulated calls in virtual time and print service level, ASA,
    abandon rate and occupancy; with --replay, a recorded day as it was and under --strategy."""
    import datetime as dt

    from hotline.contact.queues import erlang
    from hotline.contact.queues.acd import Strategy
    from hotline.contact.simulate import Scenario
    from hotline.contact.simulate import simulate as simulate_scenario

    try:
        chosen = Strategy(strategy)
    except ValueError:
        fail(f"--strategy must be one of {', '.join(s.value for s in Strategy)}")
    if replay_day:
        try:
            day = dt.date.fromisoformat(replay_day)
        except ValueError:
            fail("--replay takes a date as YYYY-MM-DD")
        _replay(day, chosen)
        return
    scenario = Scenario(
        agents, calls_per_hour, handle, calls, patience or None, wrap, seed=seed, strategy=chosen
    )
    result = simulate_scenario(scenario)
    m = result.metrics
    typer.echo(
        f"{calls:,} calls over {result.simulated_hours:.1f} simulated hours, {agents} agents, {chosen}"
    )
    typer.echo(f"  service level (20 s)  {_pct(m.service_level)}")
    typer.echo(f"  waited at all         {result.waited:.1%}")
    typer.echo(f"  ASA                   {m.average_speed_of_answer or 0:.1f} s")
    typer.echo(f"  abandon rate          {_pct(m.abandon_rate)}")
    typer.echo(f"  occupancy             {_pct(m.occupancy)}")
    if not patience and not wrap:
        theory = erlang.erlang_c_staffing(agents, calls_per_hour, handle, 20)
        typer.echo(
            f"  Erlang C: service level {_pct(theory.service_level)}, waited {theory.wait_probability:.1%}"
        )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _replay(day: Any, strategy: Any) -> None:
    from hotline.contact.queues.staffing import recorded_day
    from hotline.contact.simulate import replay

    recorded = run(lambda: with_context(lambda ctx: recorded_day(ctx, day)))
    if not recorded.calls:
        fail(f"the event log has no queued calls on {day}")
    as_was = replay(recorded)
    other = replay(recorded, strategy=strategy)
    typer.echo(f"{day}: {len(recorded.calls)} queued calls, {len(recorded.agents)} agents")
    typer.echo(f"{'queue':<12}{'':<14}{'offered':>8}{'SL':>8}{'ASA s':>8}{'abandon':>9}")
    for queue, actual in recorded.actual.items():
        rows = (
            ("recorded", actual),
            ("simulated", as_was.by_queue[queue]),
            (str(strategy), other.by_queue[queue]),
        )
        for label, m in rows:
            typer.echo(
                f"{queue:<12}{label:<14}{m.offered:>8}{_pct(m.service_level):>8}"
                f"{(m.average_speed_of_answer or 0):>8.1f}{_pct(m.abandon_rate):>9}"
            )


def register(top: typer.Typer) -> None:
    """`hotline simulate`, on the top-level command."""
    top.command("simulate")(simulate)
