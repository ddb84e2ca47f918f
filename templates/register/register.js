/* The register's issues table: sort by any column (a button in each heading, so a keyboard
   works: Tab to it, Enter or Space) and filter by words, interface area and status.
   Progressive enhancement: without this script the page is the plain, complete table. No
   network, no libraries: the register must work from a file share. */
(function () {
  "use strict";
  var table = document.getElementById("issues");
  if (!table || !table.tBodies.length) { return; }
  var body = table.tBodies[0];
  var headings = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(body.rows);
  var count = document.getElementById("issue-count");
  var panel = document.getElementById("issue-filters");

  function key(row, column) {
    var cell = row.cells[column];
    return cell.getAttribute("data-sort") || cell.getAttribute("data-value") || cell.textContent.trim();
  }

  function sortBy(column) {
    var th = headings[column];
    var direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    headings.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction);
    var sign = direction === "ascending" ? 1 : -1;
    var keyed = rows.map(function (row, index) { return [key(row, column), index, row]; });
    keyed.sort(function (a, b) {
      var order = a[0].localeCompare(b[0], "en-GB", { numeric: true, sensitivity: "base" });
      return order !== 0 ? sign * order : a[1] - b[1];
    });
    rows = keyed.map(function (k) { return k[2]; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    if (table.caption) {
      table.caption.textContent = "Published issues: " + rows.length + ", sorted by " +
        th.textContent.trim() + ", " + direction;
    }
  }

  headings.forEach(function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(column); });
  });

  function field(labelText, control) {
    var wrapper = document.createElement("div");
    var label = document.createElement("label");
    label.htmlFor = control.id;
    label.textContent = labelText;
    wrapper.appendChild(label);
    wrapper.appendChild(control);
    panel.appendChild(wrapper);
    return control;
  }

  var words = document.createElement("input");
  words.type = "search";
  words.id = "filter-words";
  field("Search the issues", words);
  var selects = [];
  headings.forEach(function (th, column) {
    var name = th.getAttribute("data-filter");
    if (!name) { return; }
    var select = document.createElement("select");
    select.id = "filter-" + name;
    var values = {};
    rows.forEach(function (row) { values[key(row, column)] = true; });
    ["(all)"].concat(Object.keys(values).sort()).forEach(function (value, index) {
      var option = document.createElement("option");
      option.value = index === 0 ? "" : value;
      option.textContent = value || "(none)";
      select.appendChild(option);
    });
    field(th.textContent.trim(), select);
    selects.push([select, column]);
  });

  function filter() {
    var wanted = words.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = !wanted || row.textContent.toLowerCase().indexOf(wanted) !== -1;
      selects.forEach(function (pair) {
        if (pair[0].value && key(row, pair[1]) !== pair[0].value) { match = false; }
      });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " issues.";
  }

  words.addEventListener("input", filter);
  selects.forEach(function (pair) { pair[0].addEventListener("change", filter); });
  panel.hidden = false;
  count.hidden = false;
  filter();
}());
