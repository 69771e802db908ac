// Page headings and browser titles that say what the page is (overrides AdminJS's ActionHeader,
// rendering the original). AdminJS titles every page with its action's name — "列表", "显示", "编辑" —
// and leaves the tab titled "coursepay" everywhere. Here: the resource on lists ("订单"), the record
// on record pages (the order number, the course title, the email; "支付宝通知 #12" where a record has
// no name of its own), "<action>: <record>" on the others; the tab gets the same text plus the
// resource. The original component receives its title through translation only, so the heading's
// text node is replaced after render (useLayoutEffect: before the browser paints it).
import { useLayoutEffect, useRef } from "react";
import type { ActionJSON, RecordJSON, ResourceJSON } from "adminjs";
import { useTranslation } from "adminjs";
import { h } from "./shared.ts";

interface Props {
  OriginalComponent: React.ComponentType<Record<string, unknown>>;
  resource: ResourceJSON;
  action: ActionJSON;
  record?: RecordJSON;
  [key: string]: unknown;
}

/** Records whose title property is a name people use; the others are shown by number. */
const NAMED = new Set(["Order", "Course", "User", "StaffUser"]);

export function pageTitles(opts: { resourceLabel: string; actionLabel: string; actionName: string; resourceId: string; record?: RecordJSON }) {
  const { resourceLabel, actionLabel, actionName, resourceId, record } = opts;
  if (!record) {
    const heading = actionName === "list" ? resourceLabel : `${actionLabel} · ${resourceLabel}`;
    return { heading, document: `${heading} · coursepay` };
  }
  const name = NAMED.has(resourceId) && record.title ? record.title : `${resourceLabel} #${record.id}`;
  const heading = actionName === "show" ? name : `${actionLabel}: ${name}`;
  return { heading, document: NAMED.has(resourceId) ? `${heading} · ${resourceLabel} · coursepay` : `${heading} · coursepay` };
}

export default function ActionHeader(props: Props) {
  const { OriginalComponent, resource, action, record } = props;
  const { translateLabel, translateAction } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  const original = translateAction(action.label, resource.id);
  const titles = pageTitles({
    resourceLabel: translateLabel(resource.id, resource.id, { defaultValue: resource.name }),
    actionLabel: original,
    actionName: action.name,
    resourceId: resource.id,
    record,
  });

  useLayoutEffect(() => {
    if (!action.showInDrawer) document.title = titles.document;
    const heading = ref.current?.querySelector("h2, h3");
    if (!heading) return;
    const walker = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeValue === original || n.nodeValue === titles.heading) {
        n.nodeValue = titles.heading;
        heading.setAttribute("data-testid", "page-heading");
        break;
      }
    }
  });

  return h("div", { ref }, h(OriginalComponent, props));
}
