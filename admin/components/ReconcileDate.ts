// "Reconcile a date now" on the bill batches list: a date field and a button. POSTs to the action
// (a state change never rides on a GET: see CommandAction.ts); the server checks the date against
// Alipay's rules (core/bills billDayRefusal) and answers with a notice.
import React, { useState } from "react";
import type { ActionProps } from "adminjs";
import { ApiClient, useActionResponseHandler, useNotice, useTranslation } from "adminjs";
import { Box, Button, Input, Label, MessageBox } from "@adminjs/design-system";
import { h } from "./shared.ts";

const api = new ApiClient();

/** Yesterday in Beijing time, yyyy-MM-dd: the newest day Alipay has a bill for. */
function yesterdayInBeijing(): string {
  const d = new Date(Date.now() + 8 * 3600_000 - 86_400_000);
  return d.toISOString().slice(0, 10);
}

export default function ReconcileDate({ action, resource }: ActionProps) {
  const { translateMessage, translateButton } = useTranslation();
  const onResponse = useActionResponseHandler();
  const addNotice = useNotice();
  const [date, setDate] = useState(yesterdayInBeijing());
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      onResponse(await api.resourceAction({ resourceId: resource.id, actionName: action.name, data: { date } }));
    } catch (e) {
      const status = (e as { response?: { status?: number } }).response?.status;
      addNotice({ message: status === 403 ? "forbiddenAction" : "commandUnavailable", type: "error" });
    } finally {
      setBusy(false);
    }
  };
  return h(Box, { variant: "container" },
    h(MessageBox, { variant: "info", message: translateMessage("reconcileDateIntro", resource.id) }),
    h(Box, { my: "lg" },
      h(Label, { htmlFor: "bill-date" }, translateMessage("billDateLabel", resource.id)),
      h(Input, { id: "bill-date", type: "date", value: date, "data-testid": "reconcile-date-input", onChange: (e: React.ChangeEvent<HTMLInputElement>) => setDate(e.target.value) })),
    h(Button, { variant: "contained", disabled: busy || !date, onClick: submit, "data-testid": "reconcile-date-submit" }, translateButton("confirmCommand", resource.id)),
  );
}
