// The knowledge base's categories, in the order the page lists them.
import type { Schemas } from '../../api/client'

export type Category = Schemas['ArticleIn']['category']
export const CATEGORIES: Category[] = ['hotel', 'route', 'price', 'policy', 'faq', 'phrase']
