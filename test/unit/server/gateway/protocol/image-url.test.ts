import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "~/server/gateway/protocol/chat-completion-request";
import { describeIssue } from "~/server/gateway/protocol/describe-issue";
import { imageUrlProblem } from "~/server/gateway/protocol/image-url";

/** The smallest valid PNG (1×1, transparent), base64. */
const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

describe("imageUrlProblem", () => {
  it.each([
    ["an https URL", "https://example.com/cat.png?size=large"],
    ["a PNG data URL", `data:image/png;base64,${PNG_1X1}`],
    ["a JPEG data URL", "data:image/jpeg;base64,/9j/4AAQSkZJRg=="],
    ["media type and scheme in capitals", "DATA:IMAGE/PNG;BASE64,iVBORw0K"],
    ["image/jpg, a common misspelling the adapters correct", "data:image/jpg;base64,/9j/"],
    ["image/svg+xml in base64", "data:image/svg+xml;base64,PHN2Zy8+"],
    ["a parameter before base64", "data:image/png;charset=utf-8;base64,iVBORw0K"],
    ["two parameters", "data:image/webp;name=a.webp;x=y;base64,UklGRg=="],
    ["one padding character", "data:image/gif;base64,R0lGODlhAQABAIAAAP8="],
  ])("accepts %s", (_label, url) => {
    expect(imageUrlProblem(url)).toBeNull();
  });

  it.each([
    [
      "characters outside the alphabet",
      "data:image/png;base64,@@@not-base64@@@",
      /not valid base64: "@" at character 0/,
    ],
    ["a space", "data:image/png;base64,iVBO Rw0K", /not valid base64: " " at character 4/],
    ["a line break", "data:image/png;base64,iVBORw0K\nGgoA", /not valid base64: "\\n" at character 8/],
    ["the URL-safe alphabet", "data:image/png;base64,iVBO-w0_", /not valid base64: "-"/],
    ["a length that is not a multiple of 4", "data:image/png;base64,iVBORw0", /7 characters are not a multiple of 4/],
    [
      "missing padding",
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
      /not a multiple of 4/,
    ],
    ["padding in the middle", "data:image/png;base64,iV==Rw0K", /`=` may only pad the end/],
    ["padding then a character", "data:image/png;base64,iVBORw=K", /`=` may only pad the end/],
    ["three padding characters", "data:image/png;base64,iVBORw0KG===", /`=` may only pad the end/],
    ["no data", "data:image/png;base64,", /no image data/],
  ])("refuses broken base64: %s", (_label, url, message) => {
    expect(imageUrlProblem(url)).toMatch(message);
  });

  it.each([
    ["text/plain", "data:text/plain;base64,aGVsbG8=", /media type is "text\/plain"/],
    ["application/pdf", "data:application/pdf;base64,JVBERi0=", /media type is "application\/pdf"/],
    ["no media type (text/plain)", "data:;base64,aGVsbG8=", /media type is none \(text\/plain\)/],
    ["a prefix of image", "data:imagex/png;base64,aGVsbG8=", /media type is "imagex\/png"/],
    ["image without a subtype", "data:image/;base64,aGVsbG8=", /media type is "image\/"/],
  ])("refuses a data URL that is not an image: %s", (_label, url, message) => {
    const problem = imageUrlProblem(url);
    expect(problem).toMatch(message);
    // It says what is allowed.
    expect(problem).toMatch(/image\/png, image\/jpeg, image\/gif, image\/webp/);
  });

  it("refuses URL-encoded data URLs, saying to use base64", () => {
    expect(
      imageUrlProblem("data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E"),
    ).toBe("must be base64-encoded: send data:image/svg+xml;base64,<data> (URL-encoded data URLs are not accepted)");
    expect(imageUrlProblem("data:image/png;charset=base64,abc")).toMatch(/must be base64-encoded/);
  });

  it.each([
    ["plain http", "http://example.com/a.png"],
    ["a file URL", "file:///etc/passwd"],
    ["an https URL with a space", "https://example.com/a b.png"],
    ["a bare path", "/cat.png"],
    ["a data URL without a comma", "data:image/png;base64"],
  ])("refuses other URLs: %s", (_label, url) => {
    expect(imageUrlProblem(url)).toMatch(/^must be an https URL or a data:image\/<type>;base64,<data> URL/);
  });

  it("does not repeat a huge media type", () => {
    const problem = imageUrlProblem(`data:${"x".repeat(100_000)};base64,aGVsbG8=`);
    expect(problem!.length).toBeLessThan(400);
  });

  it("finds a bad character after megabytes of valid base64", () => {
    const data = "A".repeat(8 * 1024 * 1024);
    expect(imageUrlProblem(`data:image/png;base64,${data}`)).toBeNull();
    expect(imageUrlProblem(`data:image/png;base64,${data}*AAA`)).toMatch(`"*" at character ${data.length}`);
  });
});

describe("the request schema", () => {
  const request = (url: string) => ({
    model: "openai/gpt-4.1",
    messages: [
      { role: "user", content: "hi" },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url } },
        ],
      },
    ],
  });

  it("names the image part in `param` and explains the problem", () => {
    const body = request("data:image/png;base64,@@@not-base64@@@");
    const result = chatCompletionRequestSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(describeIssue(result.error!.issues[0]!, body)).toEqual({
      param: "messages[1].content[1].image_url.url",
      code: "invalid_value",
      message:
        'Invalid value for `messages[1].content[1].image_url.url`: is not valid base64: "@" at character 0 of the ' +
        "data (base64 is A-Z, a-z, 0-9, + and /, padded with =, without spaces or line breaks).",
    });
  });

  it("accepts a valid PNG data URL and keeps it as sent", () => {
    const url = `data:image/png;base64,${PNG_1X1}`;
    const parsed = chatCompletionRequestSchema.parse(request(url));
    expect(parsed.messages[1]).toMatchObject({ content: [{}, { image_url: { url } }] });
  });
});
