import type { ReactNode } from "react";
import { PublicHeader } from "~/components/ui/public-header";

/** Pages anyone may read: the model catalog and the docs. */
export default function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <PublicHeader />
      <main className="container public-main">{children}</main>
    </>
  );
}
