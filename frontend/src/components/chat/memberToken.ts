// A partner site's signed member token for the chat page (docs/channels.md "Identification"):
// the widget's frame gets it by postMessage from the page that embeds it (data-member-token or
// HotlineChat.identify), the hosted page from its address's fragment (#member_token=…), which no
// server nor Referer ever sees and which is removed from the address at once. The server checks
// it (signature, site, freshness); this only carries it to ChatIdentify.vue.
import { ref } from 'vue'

const JWT = /^[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*\.[A-Za-z0-9_=-]*$/
export const pendingMemberToken = ref('')

function take(value: unknown): void {
  if (typeof value === 'string' && value.length <= 2048 && JWT.test(value)) pendingMemberToken.value = value
}

export function listenForMemberToken(): () => void {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''))
  if (fragment.has('member_token')) {
    take(fragment.get('member_token'))
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search)
  }
  const onMessage = (event: MessageEvent): void => {
    // only the page this chat is framed in speaks for its member
    if (event.source !== window.parent || window.parent === window) return
    const data = event.data as { type?: unknown; token?: unknown } | null
    if (data && data.type === 'hotline-chat-identify') take(data.token)
  }
  window.addEventListener('message', onMessage)
  if (window.parent !== window) window.parent.postMessage({ type: 'hotline-chat-ready' }, '*')
  return () => window.removeEventListener('message', onMessage)
}
