import { ElMessage } from 'element-plus'
import { computed, reactive, ref } from 'vue'
import { ProblemError } from './api/client'
import { problemMessage } from './i18n'

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
