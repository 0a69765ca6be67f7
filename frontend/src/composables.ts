import { ElMessage } from 'element-plus'
import { computed, getCurrentInstance, onBeforeUnmount, reactive, ref, watch, type Ref } from 'vue'
import { ProblemError } from './api/client'
import { apiSchemas, checkForm, messagesByField, rulesOf, type Translate } from './forms'
import { i18n, problemMessage } from './i18n'
import { type LiveEvent, useLive } from './stores/live'

export interface ActionForm {
  /** The form's model: its keys are the request body's fields (see `aliases`). Editing a field
   *  clears its error. */
  form?: object
  /** The request body's schema in openapi.json (`FollowUpIn`): checked before anything is sent. */
  schema?: string
  /** Model keys named otherwise in the body: `{ next: 'next_contact_at' }`. */
  aliases?: Record<string, string>
  /** The body to check when it is more than the form (the form's fields plus what the screen
   *  knows: the offer, the caller); the form alone otherwise. */
  body?: () => object
}

const translate: Translate = (key, params) => i18n.global.t(key, params ?? {})

/** Run an API action; show its problem as a message and keep every field's error for the form
 *  (`fieldErrors.note`, for `<el-form-item :error>`). With a `form` and its `schema` the same rules
 *  as the server's are checked first, all fields at once, and nothing is sent while one is wrong;
 *  a field's error goes when the field is edited. See src/forms.ts. */
export function useAction(options: ActionForm = {}) {
  const busy = ref(false)
  const fieldErrors = ref<Record<string, string>>({})
  const { form, schema, aliases = {}, body } = options

  if (form) {
    let before: Record<string, unknown> = { ...form }
    watch(
      () => ({ ...form }) as Record<string, unknown>,
      (now) => {
        const edited = Object.keys(now).filter((key) => now[key] !== before[key])
        before = now
        if (!edited.length) return
        const left = { ...fieldErrors.value }
        for (const key of edited) delete left[aliases[key] ?? key]
        fieldErrors.value = left
      },
      { deep: true },
    )
  }

  /** The form's wrong fields by the schema's rules; true when there are none. */
  async function check(): Promise<boolean> {
    if (!form || !schema) return true
    const checked = body ? body() : form
    const found = checkForm(checked, rulesOf(schema, await apiSchemas()), translate, body ? {} : aliases)
    fieldErrors.value = found
    return Object.keys(found).length === 0
  }

  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    fieldErrors.value = {}
    try {
      if (!(await check())) return undefined
      return await action()
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e
      fieldErrors.value = messagesByField(e.errors)
      ElMessage.error(problemMessage(e))
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { busy, fieldErrors, check, run }
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

export interface LiveDataOptions<T> {
  /** Feeds to ask the socket for (`tickets`, `wallboard`); let go when the component unmounts. */
  feeds?: string[]
  /** The events that mean the data changed: a name (`notify.staff_notice`) or a prefix ending in a
   *  dot (`tickets.`). Each reloads, changes close together once. By default a feed's own events. */
  events?: string[]
  /** Of those events, the ones about this data (e.g. this ticket). */
  about?: (event: LiveEvent) => boolean
  /** An event that carries the data itself (the wallboard, the call's state): what it returns is
   *  taken as it is, without a reload; `undefined` means the event is not one of those. */
  take?: (event: LiveEvent) => T | undefined
  /** Milliseconds between reloads while the socket is down, and all along when nothing pushed
   *  covers the data (neither `events` nor `take`) or `pollWhileLive` says the pushes cover only
   *  part of it. 0: never. */
  pollMs?: number
  pollWhileLive?: boolean
  /** Load at once (the default), or first when `refresh()` is called. */
  immediate?: boolean
  /** Changes announced this close together cause one reload. */
  debounceMs?: number
}

/** What a component shows from the server, kept current: reloaded when the live socket announces
 *  a change and after it reconnects (`live.hello`: what was announced meanwhile is not lost), and
 *  polled while the socket is down or when nothing is announced for this data. One reload at a
 *  time: a change during a reload reloads once more after it. Everything stops on unmount. For
 *  the component's setup. `data` is the fetcher's last answer (writable: an action's answer can be
 *  put there); `error` what the last load threw, null after a good one. */
export function useLiveData<T>(fetcher: () => Promise<T>, options: LiveDataOptions<T> = {}) {
  const {
    feeds = [],
    events = feeds.map((feed) => `${feed}.`),
    about = () => true,
    take,
    pollMs = 0,
    immediate = true,
    debounceMs = 300,
  } = options
  const announced = events.length > 0 || take !== undefined
  const pollWhileLive = options.pollWhileLive ?? !announced
  const live = useLive()
  const data = ref() as Ref<T | undefined>
  const error = ref<unknown>(null)
  const loading = ref(false)
  let running: Promise<void> | null = null
  let again = false
  let stopped = false
  let debounce = 0
  let poller = 0
  let taken = 0 // data pushed with an event: a read that started before it is older than it

  async function refresh(): Promise<void> {
    if (stopped) return
    if (running) {
      again = true
      return running
    }
    loading.value = true
    running = (async () => {
      do {
        again = false
        const asked = taken
        try {
          const answer = await fetcher()
          if (!stopped && asked === taken) {
            data.value = answer
            error.value = null
          }
        } catch (e) {
          if (!stopped) error.value = e
        }
      } while (again && !stopped)
    })()
    try {
      await running
    } finally {
      running = null
      loading.value = false
    }
  }

  function soon(): void {
    window.clearTimeout(debounce)
    debounce = window.setTimeout(() => void refresh(), debounceMs)
  }

  const wanted = (name: string): boolean => events.some((e) => (e.endsWith('.') ? name.startsWith(e) : name === e))
  const off = announced
    ? live.on((event) => {
        const pushedData = take?.(event)
        if (pushedData !== undefined) {
          window.clearTimeout(debounce)
          taken += 1
          data.value = pushedData
          error.value = null
        } else if (event.name === 'live.hello' || (wanted(event.name) && about(event))) soon()
      })
    : () => undefined

  function poll(on: boolean): void {
    window.clearInterval(poller)
    if (on && pollMs > 0 && !stopped) poller = window.setInterval(() => void refresh(), pollMs)
  }
  const unwatch = watch(
    () => live.connected,
    (connected) => poll(pollWhileLive || !connected),
    { immediate: true },
  )

  for (const feed of feeds) live.subscribe(feed)
  if (announced || feeds.length) live.start()
  if (immediate) void refresh()

  function stop(): void {
    stopped = true
    unwatch()
    window.clearTimeout(debounce)
    window.clearInterval(poller)
    off()
    for (const feed of feeds) live.unsubscribe(feed)
  }
  if (getCurrentInstance()) onBeforeUnmount(stop)

  return { data, error, loading, refresh, stop }
}
