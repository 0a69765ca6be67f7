import { ElMessage } from 'element-plus'
import { ref } from 'vue'
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
