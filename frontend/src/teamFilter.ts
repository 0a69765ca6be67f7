// The team filter of the pages that list agents (坐席状态, 监控大屏) or their calls (通话记录): the teams, the one chosen (a
// team lead starts on the team they lead), and the list narrowed to its current members.
import { computed, ref, type Ref } from 'vue'
import { api, call, type Schemas } from './api/client'
import { useSession } from './stores/session'

/** `rows` narrowed to the members of `team` (all of them when no team is chosen). */
export function inTeam<T>(rows: T[], team: Schemas['TeamOut'] | undefined, idOf: (row: T) => number): T[] {
  if (!team) return rows
  const members = new Set(team.members.map((m) => m.id))
  return rows.filter((row) => members.has(idOf(row)))
}

/** The teams to filter by, and the one chosen: `start(found)` picks the first (a team lead's own by
 * default); a page that filters on the server (通话记录) passes the team it was opened with. */
export function useTeams(start: (found: Schemas['TeamOut'][]) => number | null = (found) => found.find((t) => t.mine)?.id ?? null) {
  const teams = ref<Schemas['TeamOut'][]>([])
  const team = ref<number | null>(null)
  // only those who may read agents see teams: the others get no picker and ask nothing (an agent
  // on 通话记录 would get a 403)
  if (!useSession().can('agents.read')) return { teams, team, loaded: Promise.resolve() }
  const loaded = call(api.GET('/api/teams'))
    .then((found) => {
      teams.value = found
      team.value = start(found)
    })
    .catch(() => undefined) // no teams to filter by: the page lists everyone, as before
  return { teams, team, loaded }
}

export function useTeamFilter<T>(rows: Ref<T[]>, idOf: (row: T) => number) {
  const { teams, team } = useTeams()
  const shown = computed(() =>
    inTeam(
      rows.value,
      teams.value.find((t) => t.id === team.value),
      idOf,
    ),
  )
  return { teams, team, shown }
}
