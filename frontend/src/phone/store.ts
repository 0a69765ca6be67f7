// The browser phone (issue 23): JsSIP registers the agent's extension over SIP over WebSocket
// (`/api/phone/ws`) with a credential bound to the web session, rings in the page, answers with
// the chosen microphone and plays the caller on the chosen speaker. One UA per browser (the tab
// holding the lock, phone/tabs.ts), kept across reconnects; after a drop it registers again and
// restarts ICE of a call in progress (phone/state.ts decides). Hold, keys, transfers and hang-up
// stay the server's controls (SoftphonePanel): the engine treats a browser leg like any leg. Mute
// is the server's too, and this tab also stops sending the microphone while it is on.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { RTCSession } from 'jssip/lib/RTCSession'
import type { IncomingRequest } from 'jssip/lib/SIPMessage'
import type { RTCSessionEvent, UA as JsSipUA } from 'jssip/lib/UA'
import { api, call, ProblemError, type Schemas } from '../api/client'
import { useLive, type LiveEvent } from '../stores/live'
import { meter, ring } from './audio'
import { type Device, type DeviceChoice, loadChoice, type MicProblem, micProblem as micProblemOf, resolve, saveChoice } from './devices'
import { asksToAnswer, INITIAL, type PhoneAction, type PhoneEvent, type PhoneState, refreshDelay, step } from './state'
import { channel, holdLock, type TabMessage } from './tabs'

type Credentials = Schemas['PhoneCredentials']
export type PhoneKind = Schemas['AgentOut']['phone']

export const usePhone = defineStore('phone', () => {
  const kind = ref<PhoneKind | null>(null)
  const machine = ref<PhoneState>({ ...INITIAL })
  /** This tab runs the phone; false: another tab of this browser does (we mirror it). */
  const here = ref(true)
  const ringing = ref(false)
  const inCall = ref(false)
  const answering = ref(false)
  const micProblem = ref<MicProblem | null>(null)
  const inputLevel = ref(0)
  const outputLevel = ref(0)
  const devices = ref<Device[]>([])
  const choice = ref<DeviceChoice>(loadChoice(localStorage))
  const canChooseOutput = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype
  const link = computed(() => machine.value.link)
  const problem = computed(() => machine.value.problem)

  let ua: JsSipUA | null = null
  let session: RTCSession | null = null
  let credentials: Credentials | null = null
  let refreshTimer = 0
  let retryTimer = 0
  let stopRing: (() => void) | null = null
  let meters: (() => void)[] = []
  let releaseLock: (() => void) | null = null
  let tabs: ReturnType<typeof channel> | null = null
  let offLive: (() => void) | null = null
  let localStream: MediaStream | null = null
  /** The microphone opened while the call rings: answering does not wait for it, and a refusal
   *  is said before the agent clicks 接听 (where the browser asks, it asks during the ringing). */
  let early: Promise<MediaStream | null> | null = null
  let serverMuted = false
  const speaker = typeof Audio !== 'undefined' ? new Audio() : null
  if (speaker) speaker.autoplay = true

  function dispatch(event: PhoneEvent): void {
    const { state, actions } = step(machine.value, event)
    machine.value = state
    for (const action of actions) void perform(action)
    tell()
  }

  async function perform(action: PhoneAction): Promise<void> {
    if (action === 'stop') halt()
    if (action === 'refresh-credentials') await refreshCredentials()
    if (action === 'restart-ice') restartIce(5)
  }

  /** Tell the agent's other tabs what the phone is doing. */
  function tell(): void {
    if (!here.value || !tabs) return
    tabs.post({
      kind: 'state',
      link: machine.value.link,
      problem: machine.value.problem,
      ringing: ringing.value,
      inCall: inCall.value,
      micProblem: micProblem.value,
    })
  }

  function heardTab(message: TabMessage): void {
    if (here.value) {
      if (message.kind === 'ask') tell()
      if (message.kind === 'answer') void answer()
      return
    }
    if (message.kind === 'state') {
      machine.value = { ...INITIAL, link: message.link as PhoneState['link'], problem: message.problem as PhoneState['problem'] }
      ringing.value = message.ringing
      inCall.value = message.inCall
      micProblem.value = message.micProblem as MicProblem | null
    }
  }

  // ---------------------------------------------------------------- the agent's choice

  /** Where the signed-in agent answers (from their state, `GET /api/routing/me`, which the agent
   *  state bar reads on every page): the phone starts if in the browser. */
  let chosenAt = 0

  function know(phone: PhoneKind): void {
    if (!offLive) offLive = useLive().on(heardLive)
    kind.value = phone
    follow()
  }

  function follow(): void {
    if (kind.value === 'browser') begin()
    else stop()
  }

  /** The agent's state as read again (every few seconds by the state bar): heals a choice whose
   *  live event was missed (made while this tab's live socket was connecting), unless the read
   *  started before the latest choice this tab made or heard of. */
  function sync(phone: PhoneKind, readStartedAt: number): void {
    if (kind.value === null || kind.value === phone || readStartedAt < chosenAt) return
    know(phone)
  }

  async function choose(phone: PhoneKind): Promise<void> {
    chosenAt = Date.now()
    const me = await call(api.PUT('/api/routing/me/phone', { body: { phone } }))
    kind.value = me.phone
    follow()
  }

  function heardLive(event: LiveEvent): void {
    if (event.name === 'routing.phone_chosen') {
      chosenAt = Date.now()
      kind.value = event.data.phone === 'browser' ? 'browser' : 'desk'
      follow()
    }
    if (event.name === 'routing.call_state') {
      const live = event.data.call as Schemas['LiveCallOut'] | null
      serverMuted = Boolean(live?.muted)
      applyMute()
    }
  }

  // ---------------------------------------------------------------- registration

  /** Take the browser's one phone (or mirror the tab that has it). */
  function begin(): void {
    if (releaseLock) return
    here.value = false
    tabs = channel('hotline-phone', heardTab)
    tabs.post({ kind: 'ask' })
    machine.value = { ...INITIAL, link: 'connecting' }
    releaseLock = holdLock('hotline-phone', () => {
      here.value = true
      void connect()
    })
  }

  async function connect(): Promise<void> {
    if (typeof RTCPeerConnection === 'undefined' || !navigator.mediaDevices) {
      dispatch({ type: 'unsupported' })
      return
    }
    dispatch({ type: 'start' })
    void listDevices()
    try {
      credentials = await call(api.POST('/api/phone/credentials'))
    } catch (e) {
      if (e instanceof ProblemError && (e.status === 401 || e.status === 403 || e.status === 404)) {
        const code = e.status === 401 ? 4401 : 4403
        dispatch({ type: 'closed', code, reason: e.reason === 'user-has-no-extension' ? 'extension' : '', inCall: false })
      } else {
        dispatch({ type: 'closed', code: 1006, reason: '', inCall: false })
        retryTimer = window.setTimeout(() => void connect(), 5000)
      }
      return
    }
    const { UA, WebSocketInterface } = await import('jssip')
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${credentials.ws_path}`
    const agent = new UA({
      sockets: [new WebSocketInterface(url)],
      uri: credentials.sip_uri,
      authorization_user: credentials.authorization_user,
      password: credentials.password,
      realm: credentials.realm,
      register: true,
      register_expires: 300,
      session_timers: false,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 16,
      user_agent: 'Hotline desktop',
    })
    ua = agent
    /** Events of this UA only: one stopped (sign-out, desk phone chosen) says nothing more. */
    const mine = (event: PhoneEvent) => {
      if (ua === agent) dispatch(event)
    }
    agent.on('connecting', () => mine({ type: 'connecting' }))
    agent.on('registered', () => mine({ type: 'registered' }))
    agent.on('unregistered', () => mine({ type: 'unregistered' }))
    agent.on('registrationFailed', (e) => mine({ type: 'registration-failed', status: e.response?.status_code ?? null }))
    agent.on('disconnected', (e) =>
      mine({ type: 'closed', code: e.code ?? 1006, reason: e.reason ?? '', inCall: Boolean(session?.isEstablished()) }),
    )
    agent.on('newRTCSession', (e: RTCSessionEvent) => {
      if (ua === agent && String(e.originator) === 'remote') incoming(e.session, e.request as IncomingRequest)
    })
    agent.start()
    scheduleRefresh()
  }

  function scheduleRefresh(): void {
    window.clearTimeout(refreshTimer)
    if (credentials) refreshTimer = window.setTimeout(() => void refreshCredentials(), refreshDelay(credentials.expires_at, Date.now()))
  }

  /** A new credential (the old one expires, or the registrar refused it): register with it. */
  async function refreshCredentials(): Promise<void> {
    if (!ua) return
    try {
      credentials = await call(api.POST('/api/phone/credentials'))
    } catch (e) {
      if (e instanceof ProblemError && e.status === 401) dispatch({ type: 'closed', code: 4401, reason: '', inCall: false })
      else refreshTimer = window.setTimeout(() => void refreshCredentials(), 10_000)
      return
    }
    ua.set('authorization_user', credentials.authorization_user)
    ua.set('password', credentials.password)
    ua.register()
    scheduleRefresh()
  }

  /** After a drop: the call's media moves to a new ICE pair (a re-INVITE on the new socket). */
  function restartIce(tries: number): void {
    if (!session?.isEstablished()) return
    const started = session.renegotiate({ rtcOfferConstraints: { iceRestart: true } })
    if (!started && tries > 1) window.setTimeout(() => restartIce(tries - 1), 500) // a re-INVITE of the server's in flight
  }

  // ---------------------------------------------------------------- calls

  function incoming(offered: RTCSession, request: IncomingRequest): void {
    if (session) {
      offered.terminate({ status_code: 486 }) // busy: one call at a time (consulting goes through the server)
      return
    }
    session = offered
    ringing.value = true
    micProblem.value = null
    stopRing = ring(choice.value.output)
    early = openMicrophone().then(
      (stream) => stream,
      (e: unknown) => {
        micProblem.value = micProblemOf(e, window.isSecureContext)
        tell()
        return null
      },
    )
    offered.on('icecandidate', (e) => {
      // JsSIP would hold the answer (or an ICE restart's offer) until gathering ends, which waits
      // for every STUN/TURN server. Hotline's end is ICE-lite: it never checks towards the
      // browser's candidates but answers the browser's checks from wherever they come (a TURN
      // relay's too), so the SDP needs none of them: the first one found is enough to send it
      e.ready()
    })
    offered.on('peerconnection', (e) => {
      e.peerconnection.addEventListener('track', (t: RTCTrackEvent) => playRemote(t.streams[0] ?? new MediaStream([t.track])))
    })
    offered.on('accepted', () => {
      stopRinging()
      inCall.value = true
      tell()
    })
    offered.on('ended', () => ended(offered))
    offered.on('failed', () => ended(offered))
    tell()
    // the agent's own click-to-dial rings their phone first, asking it to answer by itself (RFC 5373)
    if (asksToAnswer(request)) void answer()
  }

  function openMicrophone(): Promise<MediaStream> {
    const wanted = resolve(devices.value, 'audioinput', choice.value.input)
    return navigator.mediaDevices.getUserMedia({ audio: wanted ? { deviceId: { exact: wanted } } : true, video: false })
  }

  /** Answer the ringing call: the microphone first (opened while it rang; asked again if that
   *  failed); a refused or missing one is said in words and the call keeps ringing (never
   *  answered silently). */
  async function answer(): Promise<void> {
    if (!here.value) {
      tabs?.post({ kind: 'answer' })
      return
    }
    if (!session || answering.value || session.isEstablished()) return
    const ringingSession = session
    answering.value = true
    try {
      const opened = early ? await early : null
      early = null
      try {
        localStream = opened ?? (await openMicrophone())
      } catch (e) {
        micProblem.value = micProblemOf(e, window.isSecureContext)
        tell()
        return
      }
      if (session !== ringingSession || !session) {
        for (const track of localStream.getTracks()) track.stop() // the caller left meanwhile
        localStream = null
        return
      }
      micProblem.value = null
      void listDevices() // labels are readable once the microphone is allowed
      session.answer({
        mediaStream: localStream,
        mediaConstraints: { audio: true, video: false },
        pcConfig: { iceServers: (credentials?.ice_servers ?? []) as RTCIceServer[] },
      })
      meters.push(meter(localStream, (v) => (inputLevel.value = v)))
      applyMute()
    } finally {
      answering.value = false
    }
  }

  function playRemote(stream: MediaStream): void {
    if (!speaker) return
    speaker.srcObject = stream
    void applySpeaker()
    void speaker.play().catch(() => {})
    meters.push(meter(stream, (v) => (outputLevel.value = v)))
  }

  function applyMute(): void {
    if (!session?.isEstablished()) return
    if (serverMuted) session.mute({ audio: true })
    else session.unmute({ audio: true })
  }

  function stopRinging(): void {
    stopRing?.()
    stopRing = null
    ringing.value = false
  }

  function ended(which: RTCSession): void {
    if (session !== which) return
    stopRinging()
    session = null
    inCall.value = false
    for (const stop of meters) stop()
    meters = []
    for (const track of localStream?.getTracks() ?? []) track.stop()
    localStream = null
    void early?.then((unused) => unused?.getTracks().forEach((track) => track.stop()))
    early = null
    if (speaker) speaker.srcObject = null
    tell()
  }

  // ---------------------------------------------------------------- devices

  async function listDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return
    devices.value = (await navigator.mediaDevices.enumerateDevices()).map((d) => ({ deviceId: d.deviceId, kind: d.kind, label: d.label }))
  }

  async function applySpeaker(): Promise<void> {
    const sink = speaker as (HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }) | null
    if (!sink?.setSinkId) return
    await sink.setSinkId(resolve(devices.value, 'audiooutput', choice.value.output)).catch(() => {})
  }

  async function chooseDevices(next: DeviceChoice): Promise<void> {
    choice.value = { ...next }
    saveChoice(localStorage, choice.value)
    await applySpeaker()
    // a new microphone during a call: replace the track that is sent
    if (localStream && session?.isEstablished()) {
      const wanted = resolve(devices.value, 'audioinput', next.input)
      try {
        const fresh = await navigator.mediaDevices.getUserMedia({ audio: wanted ? { deviceId: { exact: wanted } } : true })
        const track = fresh.getAudioTracks()[0]
        const sender = session.connection.getSenders().find((s) => s.track?.kind === 'audio')
        if (track && sender) await sender.replaceTrack(track)
        for (const old of localStream.getTracks()) old.stop()
        localStream = fresh
        applyMute()
      } catch (e) {
        micProblem.value = micProblemOf(e, window.isSecureContext)
      }
    }
  }

  // ---------------------------------------------------------------- stop

  function halt(): void {
    window.clearTimeout(refreshTimer)
    window.clearTimeout(retryTimer)
    if (session) {
      session.terminate()
      ended(session)
    }
    const stopping = ua
    ua = null
    stopping?.stop()
  }

  /** Signed out, or the agent answers on the desk phone now: unregister and let the lock go. */
  function stop(): void {
    halt()
    releaseLock?.()
    releaseLock = null
    tabs?.close()
    tabs = null
    here.value = true
    dispatch({ type: 'stop' })
  }

  /** Signed out: the phone stops and the next person at this browser starts from nothing. */
  function clear(): void {
    stop()
    kind.value = null
  }

  return {
    sync,
    kind,
    link,
    problem,
    here,
    ringing,
    inCall,
    answering,
    micProblem,
    inputLevel,
    outputLevel,
    devices,
    choice,
    canChooseOutput,
    know,
    choose,
    answer,
    listDevices,
    chooseDevices,
    stop,
    clear,
  }
})
