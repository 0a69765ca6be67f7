// The team filter of the pages that list agents (坐席状态, 监控大屏): the teams, the one chosen (a
// team lead starts on the team they lead), and the list narrowed to its current members.
import { computed, ref, type Ref } from 'vue'
import { api, call, type Schemas } from './api/client'

/** `rows` narrowed to the members of `team` (all of them when no team is chosen). */
export function inTeam<T>(rows: T[], team: Schemas['TeamOut'] | undefined, idOf: (row: T) => number): T[] {
  if (!team) return rows
  const members = new Set(team.members.map((m) => m.id))
  return rows.filter((row) => members.has(idOf(row)))
}

export function useTeamFilter<T>(rows: Ref<T[]>, idOf: (row: T) => number) {
  const teams = ref<Schemas['TeamOut'][]>([])
  const team = ref<number | null>(null)
  void call(api.GET('/api/teams'))
    .then((found) => {
      teams.value = found
      team.value = found.find((t) => t.mine)?.id ?? null
    })
    .catch(() => undefined) // no teams to filter by: the page lists everyone, as before
  const shown = computed(() =>
    inTeam(
      rows.value,
      teams.value.find((t) => t.id === team.value),
      idOf,
    ),
  )
  return { teams, team, shown }
}
