// The PDF reader of a document material (学习教育): draws each page of the PDF with pdf.js (pdfjs-dist from
// npm, embedded in the binary and served from /assets/pdfjs/), as wide as the page — a 390 px phone
// included — so nobody has to download the file to read it. Pages are drawn as they come near the screen,
// so a long document opens at once, each with its text layer (selectable text). No script runs from the PDF itself (scripting and eval are off), and
// nothing leaves the campus: the library, its worker, CMaps and fonts all come from this server.
// Active reading time is counted by learning.js as for an article.
import * as pdfjsLib from "/assets/pdfjs/pdf.min.mjs";

const box = document.getElementById("pdf-viewer");
const status = document.getElementById("pdf-status");
const base = box ? box.getAttribute("data-pdfjs") : "";

function say(text) {
  if (status) { status.textContent = text; }
}

async function show() {
  if (!box) { return; }
  pdfjsLib.GlobalWorkerOptions.workerSrc = base + "pdf.worker.min.mjs";
  let pdf;
  try {
    pdf = await pdfjsLib.getDocument({
      url: box.getAttribute("data-src"),
      withCredentials: true,
      cMapUrl: base + "cmaps/",
      cMapPacked: true,
      standardFontDataUrl: base + "standard_fonts/",
      wasmUrl: base + "wasm/",
      isEvalSupported: false,
      // WebAssembly would need 'wasm-unsafe-eval' in the CSP: the JavaScript decoders are used instead.
      useWasm: false,
      enableXfa: false,
    }).promise;
  } catch (e) {
    say("文档未能在页面上显示，请点击“下载PDF”后阅读。");
    return;
  }
  say("共" + pdf.numPages + "页");
  const first = await pdf.getPage(1);
  const shape = first.getViewport({ scale: 1 });
  const pages = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const page = document.createElement("div");
    page.className = "pdf-page";
    page.setAttribute("data-page", String(n));
    page.setAttribute("aria-label", "第" + n + "页");
    // Until drawn, a page keeps the first page's shape so the scroll bar does not jump.
    page.style.aspectRatio = shape.width + " / " + shape.height;
    box.appendChild(page);
    pages.push(page);
  }
  const drawn = new Set();
  async function draw(page) {
    const n = Number(page.getAttribute("data-page"));
    if (drawn.has(n)) { return; }
    drawn.add(n);
    const p = n === 1 ? first : await pdf.getPage(n);
    const unit = p.getViewport({ scale: 1 });
    const css = box.clientWidth / unit.width;
    const ratio = Math.min(window.devicePixelRatio || 1, 3);
    const viewport = p.getViewport({ scale: css * ratio });
    const canvas = document.createElement("canvas");
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    page.style.aspectRatio = unit.width + " / " + unit.height;
    page.appendChild(canvas);
    page.setAttribute("data-width", String(unit.width));
    fit(page);
    try {
      await p.render({ canvasContext: canvas.getContext("2d"), viewport: viewport }).promise;
      page.classList.add("drawn");
    } catch (e) {
      page.textContent = "第" + n + "页未能显示";
      return;
    }
    // The text layer: the page's words as transparent text over the drawing, so a reader can select and copy
    // them (and the browser's find and screen readers reach them). Sized by --total-scale-factor (fit).
    try {
      const layer = document.createElement("div");
      layer.className = "textLayer";
      page.appendChild(layer);
      await new pdfjsLib.TextLayer({
        textContentSource: p.streamTextContent(),
        container: layer,
        viewport: p.getViewport({ scale: css }),
      }).render();
    } catch (e) {
      // A page whose text cannot be read is still drawn: only selecting its text is lost.
    }
  }
  // The scale of a page's text layer follows the card's width (a phone turned, a window resized).
  function fit(page) {
    const width = Number(page.getAttribute("data-width"));
    if (!width) { return; }
    page.style.setProperty("--scale-factor", String(box.clientWidth / width));
    page.style.setProperty("--total-scale-factor", String(box.clientWidth / width));
  }
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => pages.forEach(fit)).observe(box);
  }
  if ("IntersectionObserver" in window) {
    const watch = new IntersectionObserver((entries) => {
      entries.forEach((e) => { if (e.isIntersecting) { watch.unobserve(e.target); draw(e.target); } });
    }, { rootMargin: "800px 0px" });
    pages.forEach((p) => watch.observe(p));
  } else {
    for (const p of pages) { await draw(p); }
  }
}

show();
