// How the booking desk shows money: ¥1,280.00.
export const money = (v: string | number): string => `¥${Number(v).toLocaleString('zh-CN', { minimumFractionDigits: 2 })}`
