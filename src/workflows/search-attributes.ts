/**
 * Search attributes on campaigns, so the Temporal UI can list and filter them
 * (`PatchwaveCveId = "CVE-2024-6387" AND PatchwaveStatus = "halted"`). Plain text in visibility:
 * never anything secret here.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const cveIdKey = defineSearchAttributeKey('PatchwaveCveId', SearchAttributeType.KEYWORD);
export const campaignStatusKey = defineSearchAttributeKey('PatchwaveStatus', SearchAttributeType.KEYWORD);
export const currentTierKey = defineSearchAttributeKey('PatchwaveTier', SearchAttributeType.INT);
export const severityKey = defineSearchAttributeKey('PatchwaveSeverity', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute Name=Type` and operator setup docs. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Int'> = {
  PatchwaveCveId: 'Keyword',
  PatchwaveStatus: 'Keyword',
  PatchwaveTier: 'Int',
  PatchwaveSeverity: 'Keyword',
};
