import { ElMessage } from 'element-plus'
import { computed, onBeforeUnmount, reactive, ref } from 'vue'
import { ProblemError } from './api/client'
import { problemMessage } from './i18n'
import { type LiveEvent, useLive } from './stores/live'

/** Run an API action; show its problem as a message and keep field errors for the form. */
export function useAction() {
  const busy = ref(false)
  const fieldErrors = ref<Record<string, string>>({})

  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    fieldErrors.value = {}
    try {
      return await action()
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e
      fieldErrors.value = e.fieldErrors()
      ElMessage.error(problemMessage(e))
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { busy, fieldErrors, run }
}

/** Offset paging for a server-side list: `search()` starts over, `goto(n)` opens page n. */
export function usePaging(limit: number, load: () => Promise<void>) {
  const page = reactive({ limit, offset: 0 })
  const current = computed(() => page.offset / page.limit + 1)

  function goto(pageNumber: number): void {
    page.offset = (pageNumber - 1) * page.limit
    void load()
  }

  function search(): void {
    goto(1)
  }

  return { page, current, goto, search }
}

/** Reload what a view shows when its live feed says something changed (e.g. `tickets`), and after
 *  the socket reconnects; changes close together cause one reload. For the view's setup. */
export function useLiveReload(feed: string, reload: () => unknown, about: (event: LiveEvent) => boolean = () => true, wait = 300): void {
  const live = useLive()
  let timer = 0
  const off = live.on((event) => {
    if (event.name === 'live.hello' || (event.name.startsWith(`${feed}.`) && about(event))) {
      window.clearTimeout(timer)
      timer = window.setTimeout(() => void reload(), wait)
    }
  })
  live.subscribe(feed)
  live.start()
  onBeforeUnmount(() => {
    window.clearTimeout(timer)
    off()
    live.unsubscribe(feed)
  })
}
