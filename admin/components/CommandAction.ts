// Confirmation panel for the order/notification commands ("Query Alipay now", "Close order",
// "Re-drive"). It POSTs to the action: AdminJS's own button for `component: false` actions sends a
// GET (adminjs/lib/frontend/interfaces/action/call-action-api.js: "TODO: For v8 release, rewrite
// actions to support PUT & DELETE methods"; SoftwareBrothers/adminjs#117, and PR #1523, which leaves
// custom actions to check request.method themselves). A state change must never ride on a GET — a
// top-level GET can be triggered cross-site with the SameSite=Lax session cookie attached — so the
// server runs a command only on POST (actions/command.ts).
import React, { useState } from "react";
import type { ActionProps } from "adminjs";
import { ApiClient, useActionResponseHandler, useNotice, useTranslation } from "adminjs";
import { Box, Button, Input, Label, MessageBox, TextArea } from "@adminjs/design-system";
import { h } from "./shared.ts";

const api = new ApiClient();

export default function CommandAction({ action, resource, record }: ActionProps) {
  const { translateMessage, translateButton, translateAction } = useTranslation();
  const onResponse = useActionResponseHandler();
  const addNotice = useNotice();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const withReason = Boolean(action.custom?.withReason);
  const withAmount = Boolean(action.custom?.withAmount);
  const [amount, setAmount] = useState("");

  const submit = async () => {
    if (!record) return;
    setBusy(true);
    try {
      const response = await api.recordAction({
        resourceId: resource.id,
        recordId: String(record.id),
        actionName: action.name,
        data: withReason ? (withAmount ? { reason, amount } : { reason }) : { confirm: "1" },
      });
      onResponse(response);
    } catch (e) {
      const status = (e as { response?: { status?: number } }).response?.status;
      addNotice({ message: status === 403 ? "forbiddenAction" : "commandUnavailable", type: "error" });
    } finally {
      setBusy(false);
    }
  };

  /** A labelled input of the form: its control gets the id the label points to. */
  const field = (id: string, label: string, control: typeof Input | typeof TextArea, props: Record<string, unknown>) =>
    h(Box, { my: "lg" }, h(Label, { htmlFor: id }, translateMessage(label, resource.id)), h(control, { id, width: "100%", ...props }));

  return h(Box, { variant: "container", "data-testid": `command-${action.name}` },
    h(MessageBox, { variant: "info", message: translateMessage(String(action.custom?.intro ?? ""), resource.id) }),
    withAmount
      ? field("command-amount", "amountLabel", Input, {
          inputMode: "decimal", value: amount, onChange: (e: React.ChangeEvent<HTMLInputElement>) => setAmount(e.target.value),
        })
      : null,
    withReason
      ? field("command-reason", "reasonLabel", TextArea, {
          value: reason, onChange: (e: React.ChangeEvent<HTMLTextAreaElement>) => setReason(e.target.value),
        })
      : null,
    h(Box, { mt: "lg" },
      h(Button, { variant: "contained", type: "button", disabled: busy, onClick: submit, "data-testid": "command-confirm" },
        `${translateButton("confirmCommand", resource.id)}: ${translateAction(action.name, resource.id)}`)),
  );
}
