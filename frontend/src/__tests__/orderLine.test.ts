import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import OrderLine from '../components/travel/OrderLine.vue'
import { i18n, setLocale } from '../i18n'

const order = {
  kind: 'domestic' as const,
  route: '',
  route_departs_on: null as string | null,
  wish: '',
  adults: 4,
  children: 2,
  departs_on: null as string | null,
}
const line = (o: Partial<typeof order>, locale: 'zh-CN' | 'en') => {
  setLocale(locale)
  const wrapper = mount(OrderLine, { props: { order: { ...order, ...o } }, global: { plugins: [i18n] } })
  return { text: wrapper.text(), data: wrapper.find('[data-i18n-free]') }
}

describe('the line that says what a travel order is about', () => {
  afterEach(() => setLocale('zh-CN'))

  it('words a tour as it always read in Chinese and in English around the route name', () => {
    const tour = { route: '九寨沟黄龙五日游', route_departs_on: '2026-12-08', departs_on: '2026-12-08' }
    expect(line(tour, 'zh-CN').text).toBe('九寨沟黄龙五日游 12月08日出发')
    const en = line(tour, 'en')
    expect(en.text).toBe('九寨沟黄龙五日游 · departs 8 Dec')
    expect(en.data.text()).toBe('九寨沟黄龙五日游') // only the name is left unchecked by the walk
  })

  it('words a wish with the party and the month the order holds', () => {
    const wish = { wish: '想去敦煌', departs_on: '2027-03-15' }
    expect(line(wish, 'zh-CN').text).toBe('想去敦煌，4大2小，03月出发')
    expect(line(wish, 'en').text).toBe('想去敦煌 · 4 adults, 2 children, March')
    expect(line({ wish: '想去云南', adults: 1, children: 0 }, 'en').text).toBe('想去云南 · 1 adult, no children')
    expect(line({ wish: '想去云南', adults: 1, children: 0 }, 'zh-CN').text).toBe('想去云南，1大0小')
  })

  it('falls back to the kind of trip when the order says nothing else', () => {
    expect(line({}, 'en').text).toBe('Domestic')
    expect(line({}, 'zh-CN').data.exists()).toBe(false)
  })
})
