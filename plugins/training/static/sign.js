// TRN-5: a drawn signature on the acceptance sheet (mouse, pen or finger) -> PNG data URL in a hidden field.
(function () {
  function pad(canvas) {
    var field = document.getElementById(canvas.dataset.signaturePad);
    var ctx = canvas.getContext("2d");
    var drawing = false;
    ctx.lineWidth = 2;
    ctx.lineCap = "round";
    function at(e) {
      var r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
    }
    canvas.addEventListener("pointerdown", function (e) {
      drawing = true; canvas.setPointerCapture(e.pointerId);
      var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke();
    });
    canvas.addEventListener("pointerup", function () {
      drawing = false; field.value = canvas.toDataURL("image/png");
    });
  }
  function init() { document.querySelectorAll("canvas[data-signature-pad]").forEach(pad); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
