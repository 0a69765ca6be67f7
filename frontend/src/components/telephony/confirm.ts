// What every telephony tab asks before it deletes, and says after it saved.
import { ElMessage, ElMessageBox } from 'element-plus'
import { i18n } from '../../i18n'

/** Ask before deleting `name`; true when the user agreed. */
export async function confirmDelete(name: string): Promise<boolean> {
  const { t } = i18n.global
  try {
    await ElMessageBox.confirm(t('telephony.confirmDelete', { name }), t('common.confirm'), { type: 'warning' })
    return true
  } catch {
    return false
  }
}

export function toldSaved(): void {
  ElMessage.success(i18n.global.t('common.saved'))
}
