import type { ReactNode } from "react";
import { PublicHeader } from "~/components/ui/public-header";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <PublicHeader />
      <main className="auth-main">
        <div className="card auth-card">{children}</div>
      </main>
    </>
  );
}
