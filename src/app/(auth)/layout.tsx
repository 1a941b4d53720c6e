import type { ReactNode } from "react";
import { SiteHeader } from "~/components/ui/site-header";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <SiteHeader />
      <main className="auth-main">
        <div className="card auth-card">{children}</div>
      </main>
    </>
  );
}
