// The top bar's account menu (overrides AdminJS's LoggedIn). AdminJS's "log out" item sets
// window.location to logoutPath, a GET; the server logs out only on POST (auth/login.ts), so the
// item submits a same-origin form instead (the browser sends Origin, which sameOriginWrites checks).
import type React from "react";
import { useTranslation } from "adminjs";
import { Box, CurrentUserNav } from "@adminjs/design-system";
import { h } from "./shared.ts";

interface LoggedInProps {
  session: { email: string; title?: string; avatarUrl?: string };
  paths: { logoutPath: string };
}

export function postLogout(logoutPath: string): void {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = logoutPath;
  form.style.display = "none";
  document.body.appendChild(form);
  form.submit();
}

export default function LoggedIn({ session, paths }: LoggedInProps) {
  const { translateButton } = useTranslation();
  const dropActions = [{
    label: translateButton("logout"),
    icon: "LogOut",
    onClick: (event: React.MouseEvent) => {
      event.preventDefault();
      postLogout(paths.logoutPath);
    },
  }];
  return h(Box, { flexShrink: 0, "data-css": "logged-in" },
    h(CurrentUserNav, { name: session.email, title: session.title, avatarUrl: session.avatarUrl, dropActions }));
}
