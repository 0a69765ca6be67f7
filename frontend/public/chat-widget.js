/* global window, document, location, URL */
/*
 * Hotline web chat widget (issue 24; docs/channels.md "Web chat").
 * Put one tag on a site's pages:
 *   <script src="https://hotline.example.cn/chat-widget.js" data-site="yingguan-hotels" async></script>
 * A round button in the corner opens the chat in a frame from the Hotline server (its /chat page):
 * nothing of the site's page is read but its address, and nothing of the chat runs in the page.
 * Optional: data-label (the button's words), data-label-offline (its words when no agent is online
 * and the frame offers to leave a message; asked of the server where the site may, see
 * HOTLINE_CORS_ORIGINS), data-color, data-position="left".
 * Identification (docs/channels.md "Identification"): a site whose member is logged in passes the
 * member token its server signed, as data-member-token="…" or later HotlineChat.identify(token);
 * it goes to the chat's frame by postMessage to the Hotline origin only, never in an address.
 */
;(function () {
  'use strict'
  var tag = document.currentScript
  if (!tag || window.__hotlineChat) return
  window.__hotlineChat = true
  var origin = new URL(tag.src, location.href).origin
  var site = (tag.getAttribute('data-site') || '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 80)
  var label = tag.getAttribute('data-label') || '在线客服'
  var offline = tag.getAttribute('data-label-offline') || '留言'
  var color = /^#[0-9a-fA-F]{3,8}$/.test(tag.getAttribute('data-color') || '') ? tag.getAttribute('data-color') : '#1677ff'
  var side = tag.getAttribute('data-position') === 'left' ? 'left' : 'right'

  var button = document.createElement('button')
  button.type = 'button'
  button.textContent = label
  button.setAttribute('aria-expanded', 'false')
  button.setAttribute('data-hotline-chat', 'button')
  button.style.cssText =
    'position:fixed;bottom:20px;' +
    side +
    ':20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 20px;' +
    'background:' +
    color +
    ';color:#fff;font:15px/1.2 system-ui,sans-serif;box-shadow:0 4px 12px rgba(0,0,0,.2);cursor:pointer'

  var frame = null
  var memberToken = tag.getAttribute('data-member-token') || ''
  function passToken() {
    if (frame && frame.contentWindow && memberToken)
      frame.contentWindow.postMessage({ type: 'hotline-chat-identify', token: memberToken }, origin)
  }
  window.addEventListener('message', function (event) {
    // the frame says it listens (it may load after the first postMessage was sent)
    if (frame && event.source === frame.contentWindow && event.origin === origin && event.data && event.data.type === 'hotline-chat-ready')
      passToken()
  })
  window.HotlineChat = {
    identify: function (token) {
      memberToken = typeof token === 'string' ? token.slice(0, 2048) : ''
      passToken()
    },
  }
  function open() {
    if (!frame) {
      frame = document.createElement('iframe')
      var url = new URL('/chat', origin)
      url.searchParams.set('site', site)
      url.searchParams.set('page', location.href.slice(0, 300))
      frame.src = url.href
      frame.title = label
      frame.setAttribute('data-hotline-chat', 'frame')
      frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups')
      frame.style.cssText =
        'position:fixed;bottom:76px;' +
        side +
        ':20px;z-index:2147483000;width:380px;max-width:calc(100vw - 40px);' +
        'height:600px;max-height:calc(100vh - 100px);border:0;border-radius:12px;box-shadow:0 8px 24px rgba(0,0,0,.25);background:#fff'
      document.body.appendChild(frame)
    } else {
      frame.style.display = frame.style.display === 'none' ? 'block' : 'none'
    }
    button.setAttribute('aria-expanded', frame.style.display === 'none' ? 'false' : 'true')
  }
  button.addEventListener('click', open)
  if (window.fetch) {
    var asked = new URL('/api/chat/availability', origin)
    asked.searchParams.set('site', site)
    window
      .fetch(asked.href, { credentials: 'omit' })
      .then(function (r) {
        return r.ok ? r.json() : null
      })
      .then(function (a) {
        if (a && a.available === false) button.textContent = offline
      })
      .catch(function () {}) // a site the server does not allow keeps the button's words
  }
  if (document.body) document.body.appendChild(button)
  else
    document.addEventListener('DOMContentLoaded', function () {
      document.body.appendChild(button)
    })
})()
